#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/ClientPhase.h"
#include "http/HttpParser.h"
#include "loop/ClientSession.h"
#include "loop/Exchange.h"
#include "net/Buffer.h"
#include "net/EventLoop.h"
#include "net/IntrusiveList.h"
#include "net/Outbox.h"
#include "net/Registration.h"
#include "net/Stream.h"
#include "net/TimerList.h"

namespace portico {

class ProxyLoop;

/// One client's HTTP/1.1 connection on an event loop: reads requests (pipelined ones in turn),
/// refuses malformed ones with a JSON answer, hands each to an Exchange, writes the response back
/// with back-pressure, keeps the connection alive between requests and enforces the client
/// timeouts (head, body, send, keep-alive). After a 101 it relays bytes both ways. It holds an
/// input buffer and a parser only while a request is in progress, so an idle keep-alive client
/// costs a few hundred bytes.
class ClientConnection final : public ClientSession,
                               public net::EventHandler,
                               public net::TimerHandler,
                               public ExchangeClient,
                               public http::BodySink,
                               public UpstreamChannel::Owner {
 public:
  /// `peer`: the address accept() gave; `tls`: the session of a TLS listener's connection (null
  /// for plain HTTP), whose handshake comes first.
  ClientConnection(ProxyLoop& loop, net::FileDescriptor fd, const sockaddr_storage& peer,
                   net::SslPtr tls = net::SslPtr());
  ~ClientConnection() override;
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  /// Registers with the loop and waits for the first request.
  void start();
  /// The proxy is stopping: close now when idle, else once the current response is complete.
  void drain() override;

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

  // ExchangeClient
  void requestBodyWanted() override;
  void responseHead(const http::HttpHead& upstream,
                    const ForwardingPolicy::Response& plan) override;
  void responseBody(std::string_view bytes) override;
  bool flushResponse() override;
  void responseEnd() override;
  void answer(const ProxyAnswer& answer) override;
  void abortResponse() override;
  void tunnel(const http::HttpHead& upstream, const ForwardingPolicy::Response& plan,
              std::unique_ptr<UpstreamChannel> upstreamChannel) override;

  // BodySink: the request body, on its way to the exchange.
  void data(const char* bytes, std::size_t size) override;

  // UpstreamChannel::Owner: the target's side of a WebSocket tunnel.
  void upstreamConnected() override {}
  void upstreamReadable() override;
  void upstreamDrained() override;
  void upstreamFailed(UpstreamChannel::Failure failure, const std::string& error) override;

 private:
  enum class State { Waiting, Head, Forwarding, Tunnel, Lingering, Closed };

  void readInput();
  bool readOnce();  // true: TLS holds more decrypted bytes, read again
  void continueHandshake();
  void process();
  void processOnce();
  void dispatch();
  void ownAnswer(int status, std::string_view message);
  bool flushOut();
  void exchangeDone();
  void nextRequest();
  void logAccess(int status, std::uint64_t bytes);
  /// Arms the timeout ClientPhase says runs now and watches for what it says.
  void apply();
  void updateInterest();
  net::TimerList* timerList(ClientPhase::Timeout timeout);
  void releaseIdleResources();
  void lingerClose();
  void close();
  void abort();
  void clientGone();
  void tunnelPump();
  void endTunnel();

  ProxyLoop& loop_;
  net::Stream stream_;
  std::string peer_;
  bool peerTrusted_{false};
  net::Timer timer_;  // tag: the ClientPhase::Timeout it runs for
  ClientPhase phase_;
  ClientPhase::Timeout armed_{ClientPhase::Timeout::None};
  std::unique_ptr<net::Buffer> in_;
  std::unique_ptr<http::HttpParser> parser_;
  net::Outbox out_;
  std::unique_ptr<Exchange> exchange_;
  std::unique_ptr<UpstreamChannel> tunnel_;
  State state_{State::Waiting};
  net::Registration registration_;  // stream_'s descriptor on the loop
  bool peerClosed_{false};
  bool handshaking_{false};
  bool reading_{false};
  bool requestComplete_{false};  // the whole request (body included) has been read
  bool bodyWanted_{false};       // the exchange takes body bytes now
  bool continueSent_{false};
  bool bodyStarted_{false};
  bool exchangeEnded_{false};  // the response (or the proxy's answer) is queued in full
  bool closeAfter_{false};
  bool chunkedResponse_{false};
  bool draining_{false};
  bool processing_{false};
  bool processAgain_{false};
  bool tunnelClientEof_{false};
  bool tunnelUpstreamEof_{false};
  int ownStatus_{0};
  std::uint64_t ownBytes_{0};
  std::chrono::steady_clock::time_point started_{};
};

}  // namespace portico
