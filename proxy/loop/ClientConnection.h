#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/ClientPhase.h"
#include "http/HttpParser.h"
#include "loop/ClientSession.h"
#include "loop/ConnectionCount.h"
#include "loop/Exchange.h"
#include "loop/Http1ResponseWriter.h"
#include "loop/WebSocketRelay.h"
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
/// input buffer, a parser and an exchange (with the request's RequestContext) only while a
/// request is in progress, so an idle keep-alive client costs a few hundred bytes.
class ClientConnection final : public ClientSession,
                               public net::EventHandler,
                               public net::TimerHandler,
                               public ExchangeClient,
                               public http::BodySink,
                               public UpstreamChannel::Owner {
 public:
  /// A plain HTTP connection; `peer`: the address accept() gave.
  ClientConnection(ProxyLoop& loop, net::FileDescriptor fd, const sockaddr_storage& peer);
  /// A TLS connection whose handshake negotiated HTTP/1.1 (TlsHandshake): takes over its
  /// stream, its count in the metrics and its running header timeout.
  ClientConnection(ProxyLoop& loop, net::Stream stream, std::string peer, bool peerTrusted,
                   ConnectionCount count, net::Timer& headerTimer);
  ~ClientConnection() override;
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  /// Registers with the loop and waits for the first request (reads it at once after a TLS
  /// handshake: it may have come with the handshake's last flight).
  void start();
  /// The proxy is stopping: close now when idle, else once the current response is complete.
  void drain() override;

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

  // ExchangeClient
  void requestBodyWanted() override;
  void respond(const ResponseHead& head) override;
  void responseBody(std::string_view bytes) override;
  bool flushResponse() override;
  void responseTrailers(const http::HttpHead& trailers) override;
  void responseEnd() override;
  void answer(const ProxyAnswer& answer) override;
  void abortResponse() override;
  void switchProtocols(const ResponseHead& head,
                       std::unique_ptr<UpstreamChannel> upstreamChannel) override;

  // BodySink: the request body, on its way to the exchange.
  void data(const char* bytes, std::size_t size) override;

  // UpstreamChannel::Owner: the target's side of a WebSocket tunnel.
  void upstreamConnected() override {}
  void upstreamReadable() override;
  void upstreamDrained() override;
  void upstreamFailed(UpstreamChannel::Failure failure, const std::string& error) override;

 private:
  /// Waiting: between requests. Head: reading a request head. Forwarding: the exchange runs
  /// (request body and response in flight). Finishing: the whole response (or the proxy's own
  /// answer) is queued; it is being flushed and pipelined input waits. Tunnel: after a 101.
  /// Lingering: half-closed after an answer that left the request unread.
  enum class State { Waiting, Head, Forwarding, Finishing, Tunnel, Lingering, Closed };
  /// The request body, while Forwarding: Held until the target is ready for it, Flowing while
  /// it takes it, Complete once all of it was read (or there was none).
  enum class Body { Held, Flowing, Complete };

  void readInput();
  bool readOnce();  // true: TLS holds more decrypted bytes, read again
  bool makeRoom();  // false: the input buffer is full, reading paused
  void process();
  void processOnce();
  bool processHead();  // true: a request was dispatched, process on
  /// A plain connection's first bytes: false while they may still be HTTP/2's preface, or once
  /// they were and the connection became an Http2Connection.
  bool stillHttp1();
  void becomeHttp2();
  bool processBody();  // true: more body bytes wait to be fed
  void feedBody();
  void bodyFlushed(bool flowing);
  void beginRequest();
  void dispatch();
  /// `headers`: "Name: value\r\n" lines besides the reply's own (Retry-After, RateLimit-*).
  void answerOwn(int status, std::string_view message, std::string_view headers = {});
  /// The client allows another request after this one.
  bool keepsAlive() const;
  /// A status other than the client's 499 is recorded: the target's head (or an answer) went
  /// out, so only cutting the connection can tell the client something is wrong.
  bool responseUnderway() const;
  bool flushOut();
  void exchangeDone();
  void nextRequest();
  /// Arms the timeout ClientPhase says runs now and watches for what it says.
  void apply();
  void updateInterest();
  void releaseIdleResources();
  void lingerClose();
  void close();
  void abort();
  void clientGone();
  void tunnelPump();
  void endTunnel();
  void bodyTimedOut();

  ProxyLoop& loop_;
  net::Stream stream_;
  std::string peer_;
  bool peerTrusted_{false};
  ConnectionCount count_;
  net::Timer timer_;  // tag: the ClientPhase::Timeout it runs for
  ClientPhase phase_;
  ClientPhase::Timeout armed_{ClientPhase::Timeout::None};
  std::unique_ptr<net::Buffer> in_;
  std::unique_ptr<http::HttpParser> parser_;
  net::Outbox out_;
  Http1ResponseWriter writer_{out_};
  std::unique_ptr<Exchange> exchange_;  // from a request's first byte until its response is out
  WebSocketRelay relay_;
  State state_{State::Waiting};
  Body body_{Body::Held};
  net::Registration registration_;  // stream_'s descriptor on the loop
  bool peerClosed_{false};
  bool reading_{false};
  bool continueDone_{false};  // a 100 Continue went out, or body bytes came without one
  bool fresh_{true};          // no request began yet (only then may the HTTP/2 preface come)
  bool draining_{false};
  bool processing_{false};
  bool processAgain_{false};
};

}  // namespace portico
