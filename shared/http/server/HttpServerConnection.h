#pragma once

#include <cstdint>
#include <string>

#include "http/ClientPhase.h"
#include "http/HttpParser.h"
#include "http/server/HttpService.h"
#include "net/EventLoop.h"
#include "net/Outbox.h"
#include "net/Registration.h"
#include "net/Releasable.h"
#include "net/Stream.h"
#include "net/TimerList.h"

namespace portico::http {

class HttpServer;

/// One client connection of an HttpServer, on the server's loop thread: reads a request head
/// (strict HttpParser, MessageFraming), then its body within the limit, hands the complete
/// request to the service through the server's workers, writes the answer, and keeps the
/// connection for the next request or closes it. One request at a time: pipelined requests wait
/// in the input buffer until the answer before them is out. Every refusal is a JSON answer; a
/// connection whose next request could not be found is closed after it (lingering, so the
/// answer is not destroyed by a reset).
class HttpServerConnection final : public net::EventHandler,
                                   public net::TimerHandler,
                                   public net::Releasable,
                                   public BodySink {
 public:
  HttpServerConnection(HttpServer& server, std::uint64_t id, net::FileDescriptor fd,
                       std::string peer);
  ~HttpServerConnection() override;
  HttpServerConnection(const HttpServerConnection&) = delete;
  HttpServerConnection& operator=(const HttpServerConnection&) = delete;

  /// Registers with the loop; the first head must come within the header timeout.
  void start();
  /// The server is stopping: close now when idle, answer 503 to a head still arriving, else
  /// close after the answer in progress.
  void drain();
  /// The service's answer to the request handed over last.
  void respond(const ServerResponse& response);

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;
  void data(const char* bytes, std::size_t size) override;

 private:
  enum class State { Head, Body, Working, Writing, Lingering, Closed };

  void readInput();
  void process();
  /// One step of reading the request head; true when the head is complete (read on).
  bool readHead();
  void readBody();
  void headComplete();
  void dispatch();
  /// The request (head known) is refused: the service sees the answer, then the connection
  /// closes after it.
  void refuse(int status, const std::string& message);
  /// Refused before the head was complete: answered here.
  void refuseUnparsed(int status, const std::string& message);
  void write(const ServerResponse& response, bool keepAlive, bool withBody);
  void flush();
  void answered();
  void lingerClose();
  void apply();
  void updateInterest();
  void close();
  void abort();

  HttpServer& server_;
  const std::uint64_t id_;
  net::Stream stream_;
  std::string peer_;
  net::Timer timer_;
  ClientPhase phase_;
  ClientPhase::Timeout armed_{ClientPhase::Timeout::None};
  HttpParser parser_;
  std::string in_;      // received and not yet dropped; the head being parsed starts at 0
  std::size_t pos_{0};  // bytes of in_ the parser has used
  ServerRequest request_;
  net::Outbox out_;
  State state_{State::Head};
  net::Registration registration_;  // stream_'s descriptor on the server's loop
  bool headStarted_{false};
  bool peerClosed_{false};
  bool tooLarge_{false};
  bool keepAlive_{false};
  bool closeAfter_{false};
  bool draining_{false};
};

}  // namespace portico::http
