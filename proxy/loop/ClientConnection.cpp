#include "loop/ClientConnection.h"

#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/Duration.h"
#include "base/Log.h"
#include "forward/ErrorReply.h"
#include "http/ClientTimerLists.h"
#include "http/Http2Preface.h"
#include "loop/Http2Connection.h"
#include "loop/ProxyLoop.h"
#include "loop/RequestLog.h"
#include "observe/AccessLog.h"
#include "observe/ProxyMetrics.h"
#include "routing/RequestRouting.h"

namespace portico {
namespace {

using Status = http::HttpParser::Status;

}  // namespace

ClientConnection::ClientConnection(ProxyLoop& loop, net::FileDescriptor fd,
                                   const sockaddr_storage& peer)
    : loop_(loop),
      stream_(std::move(fd)),
      peer_(net::addressText(peer)),
      peerTrusted_(loop.context().trusted.contains(reinterpret_cast<const sockaddr&>(peer))),
      count_(loop.context().metrics),
      timer_(*this, 0),
      relay_(loop),
      registration_(loop.events(), *this) {}

ClientConnection::ClientConnection(ProxyLoop& loop, net::Stream stream, std::string peer,
                                   bool peerTrusted, ConnectionCount count, net::Timer& headerTimer)
    : loop_(loop),
      stream_(std::move(stream)),
      peer_(std::move(peer)),
      peerTrusted_(peerTrusted),
      count_(std::move(count)),
      timer_(*this, 0),
      relay_(loop),
      registration_(loop.events(), *this) {
  // The header timeout has run since the accept; the handshake counted within it.
  timer_.takeOver(headerTimer);
  armed_ = ClientPhase::Timeout::Header;
  timer_.tag = static_cast<int>(armed_);
  assert(phase_.timeout() == armed_);
  phase_.takeRestart();
}

ClientConnection::~ClientConnection() {
  timer_.cancel();
  if (exchange_) {
    if (exchange_->inFlight()) exchange_->clientGone();
    loop_.recycle(std::move(exchange_));
  }
  relay_.stop();
  if (in_) loop_.buffers().give(std::move(in_));
  if (parser_) loop_.giveParser(std::move(parser_));
}

void ClientConnection::start() {
  // A new connection has the header timeout for its first request, as in nginx.
  apply();
  if (stream_.tls()) readInput();
}

void ClientConnection::drain() {
  draining_ = true;
  if (state_ == State::Waiting && (!in_ || in_->unconsumed() == 0)) close();
}

void ClientConnection::apply() {
  // Reachable closed: the I/O before an apply() may have found the client gone.
  if (state_ == State::Closed) return;
  // The send timeout is the route's while an exchange runs (timeouts.send).
  followPhase(
      phase_, armed_, timer_,
      [this](ClientPhase::Timeout t) {
        return loop_.clientTimers(t, exchange_ ? exchange_->route() : nullptr);
      },
      loop_.events().now());
  updateInterest();
  // Reading resumed while TLS holds decrypted bytes: no socket event will announce them.
  if (!reading_ && phase_.reading() && stream_.pending()) readInput();
}

void ClientConnection::updateInterest() {
  assert(state_ != State::Closed && stream_.open());  // apply() and the handshake check first
  std::uint32_t events = 0;
  // TLS may need to write to go on reading (a key update): that is a write wait too.
  if (phase_.reading()) events |= stream_.wantsWrite() ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  if (phase_.writing()) events |= EPOLLOUT;
  // No events: out of the loop until there is something to wait for again (Registration).
  if (!registration_.want(stream_.fd(), events)) {
    logLine(std::string("proxy: cannot watch a client connection: ") + std::strerror(errno));
    abort();
  }
}

void ClientConnection::onEvent(std::uint32_t events) {
  if (state_ == State::Closed) return;  // closed earlier in this batch
  if (stream_.wantsWrite() && (events & EPOLLOUT) && phase_.reading()) {
    readInput();  // TLS wanted to write before it could read on
    if (state_ == State::Closed) return;
  }
  if ((events & EPOLLOUT) && phase_.writing()) {
    if (!flushOut()) return;
    if (state_ == State::Closed) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readInput();
}

void ClientConnection::readInput() {
  // Reachable closed: start() reads after apply(), which may have failed to watch the socket.
  if (state_ == State::Closed || peerClosed_ || reading_) return;
  struct Guard {
    bool& flag;
    explicit Guard(bool& f) : flag(f) { flag = true; }
    ~Guard() { flag = false; }
  } guard(reading_);
  for (bool again = true; again && state_ != State::Closed;) {
    again = readOnce();
  }
}

bool ClientConnection::readOnce() {
  // readInput() checks both before each turn; a turn that closes or sees the end returns false.
  assert(state_ != State::Closed && !peerClosed_);
  if (!in_) in_ = loop_.buffers().take();
  if (in_->space() == 0 && !makeRoom()) return false;
  std::size_t n = 0;
  const net::Io io = stream_.read(in_->writePtr(), in_->space(), n);
  switch (io) {
    case net::Io::Ok:
      in_->produced(n);
      break;
    case net::Io::Again:
      return false;
    case net::Io::Closed:
      peerClosed_ = true;
      phase_.peerClosed();
      apply();
      break;
    case net::Io::Failed:
      clientGone();
      return false;
  }
  process();
  // Bytes TLS already decrypted wait in OpenSSL, not in the socket: no event announces them.
  return stream_.pending() && state_ != State::Closed && phase_.reading();
}

bool ClientConnection::makeRoom() {
  if (state_ == State::Head) {
    // A head longer than one buffer: up to the limit (the parser answers 431 past it).
    const std::size_t limit = loop_.limits().maxHeaderBytes + 1024;
    if (in_->capacity() < limit) in_->grow(limit);
  } else if (state_ == State::Lingering) {
    in_->reset();
  } else if (in_->begin() > 0) {
    in_->compact();
  }
  if (in_->space() > 0) return true;
  // Full of pipelined requests or body bytes the target cannot take yet: read on later.
  phase_.inputFull(true);
  apply();
  return false;
}

void ClientConnection::process() {
  if (processing_) {
    processAgain_ = true;
    return;
  }
  processing_ = true;
  do {
    processAgain_ = false;
    processOnce();
  } while (processAgain_ && state_ != State::Closed);
  processing_ = false;
}

void ClientConnection::processOnce() {
  switch (state_) {
    case State::Waiting:
    case State::Head:
      // A request ending at once (and a pipelined one after it) comes round again through
      // processAgain_.
      if (processHead() && state_ == State::Forwarding) {
        while (processBody()) {
        }
      }
      return;
    case State::Forwarding:
      while (processBody()) {
      }
      return;
    case State::Finishing:  // flushing the response; pipelined input waits
    case State::Closed:
      return;
    case State::Tunnel:
      tunnelPump();
      return;
    case State::Lingering:
      if (in_) in_->reset();
      if (peerClosed_) close();
      return;
  }
}

bool ClientConnection::processHead() {
  if (!in_ || in_->unconsumed() == 0) {
    if (peerClosed_) close();  // between requests, or inside a head: nothing to answer
    return false;
  }
  if (state_ == State::Waiting && fresh_ && !stillHttp1()) return false;
  if (state_ == State::Waiting) beginRequest();
  if (!parser_) parser_ = loop_.takeParser();
  std::size_t used = 0;
  const Status status = parser_->feed(in_->data(), in_->begin(), in_->end(), nullptr, used);
  in_->consumed(used);
  if (status == Status::Error) {
    answerOwn(parser_->errorStatus(), parser_->errorMessage());
    return false;
  }
  if (status == Status::NeedMore) {
    if (peerClosed_) close();
    return false;
  }
  dispatch();
  return true;
}

bool ClientConnection::processBody() {
  if (body_ == Body::Complete) {
    // The request is in; the response is on its way. A client that hangs up now is gone.
    if (peerClosed_ && (!in_ || in_->unconsumed() == 0)) clientGone();
    return false;
  }
  if (body_ == Body::Held) return false;  // the target is not ready for the body yet
  feedBody();
  return state_ == State::Forwarding && body_ == Body::Flowing && in_->unconsumed() > 0;
}

void ClientConnection::feedBody() {
  std::size_t used = 0;
  const Status status = parser_->feed(in_->data(), in_->begin(), in_->end(), this, used);
  in_->consumed(used);
  if (used > 0) {
    continueDone_ = true;
    phase_.bodyProgress();
  }
  if (status == Status::NeedMore && in_->unconsumed() == 0 && peerClosed_) {
    // The client went away before its body was complete: the target must see an aborted
    // connection, never a complete-looking request.
    clientGone();
    return;
  }
  if (status == Status::Error) {
    const std::string why = parser_->errorMessage();
    exchange_->clientGone();
    if (responseUnderway()) {
      abort();
    } else {
      answerOwn(parser_->errorStatus(), "malformed request body: " + why);
    }
    return;
  }
  if (status == Status::MessageComplete) {
    body_ = Body::Complete;
    phase_.requestComplete();  // the target owes the answer now; its read timeout runs
    exchange_->requestBodyEnd();
  }
  bodyFlushed(exchange_->flushRequest());
}

void ClientConnection::bodyFlushed(bool flowing) {
  if (state_ != State::Forwarding) return;  // the flush ended the exchange
  if (in_->unconsumed() == 0) in_->reset();
  if (!flowing) {
    if (body_ != Body::Complete) {
      body_ = Body::Held;
      phase_.bodyBacklogged();  // the target is slow, not the client
    }
    apply();
    return;
  }
  phase_.inputFull(false);
  apply();
}

bool ClientConnection::stillHttp1() {
  // RFC 9113 3.3 (h2c with prior knowledge, as nginx's `listen … http2` and Envoy take it): on
  // the plain listener a connection that opens with the HTTP/2 preface is HTTP/2. Over TLS, ALPN
  // alone decides (RFC 9113 3.2), so there the preface stays a malformed HTTP/1.1 request.
  if (stream_.tls()) return true;
  switch (
      http::matchHttp2Preface(std::string_view(in_->data() + in_->begin(), in_->unconsumed()))) {
    case http::PrefaceMatch::Http1:
      return true;
    case http::PrefaceMatch::Partial:
      // The header timeout, running since the accept, bounds the wait for the rest.
      if (peerClosed_) close();
      return false;
    case http::PrefaceMatch::Http2:
      becomeHttp2();
      return false;
  }
  return true;
}

void ClientConnection::becomeHttp2() {
  // The socket moves to the HTTP/2 connection, which registers it anew; this object goes away
  // without closing it, and hands over what it read (the preface and whatever followed it).
  registration_.leave();
  timer_.cancel();
  armed_ = ClientPhase::Timeout::None;
  state_ = State::Closed;
  auto h2 = std::make_unique<Http2Connection>(loop_, std::move(stream_), std::move(peer_),
                                              peerTrusted_, std::move(count_));
  Http2Connection& c = *h2;
  loop_.adopt(std::move(h2));
  std::unique_ptr<net::Buffer> received = std::move(in_);
  releaseIdleResources();
  loop_.closed(*this);
  c.start(std::string_view(received->data() + received->begin(), received->unconsumed()));
  loop_.buffers().give(std::move(received));
}

void ClientConnection::beginRequest() {
  fresh_ = false;
  state_ = State::Head;
  exchange_ = loop_.takeExchange();
  exchange_->context().begin(RequestContext::Clock::now(), peer_, "HTTP/1.1");
  phase_.headStarted();
  apply();
}

void ClientConnection::dispatch() {
  http::HttpHead& head = parser_->head();
  parser_->detachHead();
  RequestContext& context = exchange_->context();
  context.headParsed(head);
  if (head.versionMinor() == 0) context.protocol("HTTP/1.0");
  // A request without a body is complete with its head.
  std::size_t used = 0;
  const bool complete = parser_->feed(in_->data(), in_->begin(), in_->begin(), nullptr, used) ==
                        Status::MessageComplete;
  body_ = complete ? Body::Complete : Body::Held;
  phase_.headComplete(complete);
  apply();
  state_ = State::Forwarding;
  continueDone_ = false;

  const std::shared_ptr<const RouteTable>& table = loop_.table();
  RequestRouting routing =
      RequestRouting::of(*table, head.target(), head.get(http::KnownHeader::Host, {}));
  if (!routing.route) {
    answerOwn(routing.status, routing.message);
    return;
  }
  exchange_->start(*this, table, *routing.route, head, std::move(routing.resolved), peer_,
                   peerTrusted_, stream_.tls());
}

void ClientConnection::data(const char* bytes, std::size_t size) {
  if (exchange_) exchange_->requestBody(std::string_view(bytes, size));
}

void ClientConnection::requestBodyWanted() {
  if (state_ != State::Forwarding || body_ == Body::Complete) return;
  body_ = Body::Flowing;
  // The client waits for a go-ahead before sending its body (RFC 9110 10.1.1): now that a
  // target is ready to take it.
  if (exchange_->policy().expectsContinue() && !continueDone_ && (!in_ || in_->unconsumed() == 0)) {
    continueDone_ = true;
    writer_.interimContinue();
    if (!flushOut()) return;
  }
  phase_.bodyWanted();
  phase_.inputFull(false);
  apply();
  process();
}

void ClientConnection::respond(const ResponseHead& head) {
  writer_.head(head, keepsAlive(), loop_.scratch());
}

void ClientConnection::responseBody(std::string_view bytes) {
  writer_.body(bytes);
}

bool ClientConnection::flushResponse() {
  return flushOut();
}

void ClientConnection::responseTrailers(const http::HttpHead& trailers) {
  // Only to a client that said it takes them (gRPC-aware HTTP/1.1 clients do, RFC 9110 10.1.4).
  if (exchange_ && exchange_->policy().clientWantsTrailers())
    writer_.trailers(trailers, loop_.scratch());
}

void ClientConnection::responseEnd() {
  // Reachable closed: the exchange's last flushResponse() may have found the client gone.
  if (state_ == State::Closed) return;
  writer_.end();
  state_ = State::Finishing;
  flushOut();
}

void ClientConnection::answer(const ProxyAnswer& a) {
  // The exchange answers only while it runs, and close() ends it first.
  assert(state_ == State::Forwarding);
  answerOwn(a.status, a.message, a.headers);
}

bool ClientConnection::keepsAlive() const {
  // Without the whole request read, where the next one would start is unknown: close after.
  return body_ == Body::Complete && parser_ && parser_->keepAlive() && !draining_ &&
         !loop_.draining();
}

bool ClientConnection::responseUnderway() const {
  const int status = exchange_->context().status();
  return status != 0 && status != RequestContext::kClientClosed;
}

void ClientConnection::answerOwn(int status, std::string_view message, std::string_view headers) {
  const ErrorReply reply(status, message, headers);
  writer_.error(reply, keepsAlive(), loop_.scratch());
  exchange_->context().proxyAnswered(status, reply.body().size());
  state_ = State::Finishing;
  flushOut();
}

void ClientConnection::abortResponse() {
  // The exchange breaks off only while it runs, and close() ends it first.
  assert(state_ == State::Forwarding);
  abort();
}

bool ClientConnection::flushOut() {
  // Reachable closed: an exchange flushing after the client went away in the same turn.
  if (state_ == State::Closed) return false;
  const net::Io io = out_.flush(stream_);
  if (io == net::Io::Failed || io == net::Io::Closed) {
    clientGone();
    return false;
  }
  if (io == net::Io::Again) {
    // Progress or not, the client has send_timeout from now to take the next bytes.
    if (phase_.writing()) phase_.writeProgress();
    phase_.writeBlocked();
    apply();
    return false;
  }
  if (phase_.writing()) {
    phase_.writeDrained();
    apply();
    if (state_ == State::Forwarding) {
      exchange_->clientDrained();
      if (state_ == State::Closed) return false;
    }
    if (state_ == State::Tunnel) tunnelPump();
  }
  if (state_ == State::Finishing) exchangeDone();
  return true;
}

void ClientConnection::exchangeDone() {
  logRequest(loop_.context(), exchange_->context());
  loop_.recycle(std::move(exchange_));
  if (body_ != Body::Complete) {
    // The body was never read: whatever the client still sends is drained, not parsed.
    lingerClose();
    return;
  }
  if (writer_.closeAfter() || draining_ || loop_.draining()) {
    close();
    return;
  }
  nextRequest();
}

void ClientConnection::nextRequest() {
  state_ = State::Waiting;
  body_ = Body::Held;
  parser_->reset();
  if (in_ && in_->unconsumed() > 0) {
    // Pipelined: the next request is already here.
    in_->compact();
    phase_.responseDone();
    apply();
    process();
    return;
  }
  if (peerClosed_) {
    close();
    return;
  }
  releaseIdleResources();
  phase_.responseDone();
  apply();
}

void ClientConnection::releaseIdleResources() {
  if (in_) loop_.buffers().give(std::move(in_));
  if (parser_) loop_.giveParser(std::move(parser_));
  out_.clear();
}

void ClientConnection::clientGone() {
  // Reachable closed: a later write or read of the same turn finding the client gone again.
  if (state_ == State::Closed) return;
  if (state_ == State::Tunnel) {
    endTunnel();
    return;
  }
  if (exchange_ && exchange_->inFlight()) {
    exchange_->clientGone();
    logRequest(loop_.context(), exchange_->context());
  }
  close();
}

void ClientConnection::lingerClose() {
  // Half-close and read what the client still sends until it closes (or the linger timeout):
  // closing with unread bytes would reset the connection and could destroy the answer on its
  // way (nginx's lingering close).
  stream_.shutdownWrite();
  state_ = State::Lingering;
  if (in_) in_->reset();
  phase_.lingering();
  apply();
  if (peerClosed_) close();
}

void ClientConnection::close() {
  // Reachable closed: every ending path funnels here, some after an earlier one.
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  timer_.cancel();
  if (exchange_) {
    if (exchange_->inFlight()) exchange_->clientGone();
    loop_.recycle(std::move(exchange_));
  }
  relay_.stop();
  // Closing the descriptor takes it out of the epoll set (nothing else holds it): no
  // epoll_ctl of its own, one system call less per connection.
  registration_.forget();
  stream_.close();
  releaseIdleResources();
  loop_.closed(*this);
}

void ClientConnection::abort() {
  stream_.abort();
  close();
}

void ClientConnection::onTimeout(int tag) {
  using T = ClientPhase::Timeout;
  armed_ = T::None;
  switch (static_cast<T>(tag)) {
    case T::None:
      return;
    case T::KeepAlive:
    case T::Linger:
      close();
      return;
    case T::Header:
      if (state_ == State::Head) {
        answerOwn(408, "request head not received within " +
                           formatDuration(loop_.limits().headerTimeout));
      } else {
        close();  // never sent a byte
      }
      return;
    case T::Body:
      bodyTimedOut();
      return;
    case T::Send:
      // The client stopped reading: it pays with its connection, not the loop with memory.
      if (exchange_ && exchange_->inFlight()) exchange_->clientGone();
      abort();
      return;
    case T::Tunnel:
      endTunnel();
      return;
  }
}

void ClientConnection::bodyTimedOut() {
  // The client stopped sending its body: the target must not take what came as complete.
  if (exchange_ && exchange_->inFlight()) exchange_->clientGone();
  if (exchange_ && responseUnderway()) {
    abort();
  } else {
    answerOwn(408,
              "request body not received within " + formatDuration(loop_.limits().bodyTimeout));
  }
}

// --- WebSocket tunnel ---------------------------------------------------------------------

void ClientConnection::switchProtocols(const ResponseHead& head,
                                       std::unique_ptr<UpstreamChannel> upstreamChannel) {
  writer_.switching(head, loop_.scratch());
  relay_.start(std::move(upstreamChannel), *this);
  state_ = State::Tunnel;
  phase_.tunnel();
  phase_.inputFull(false);
  apply();
  tunnelPump();
}

void ClientConnection::upstreamReadable() {
  if (state_ == State::Tunnel) tunnelPump();
}

void ClientConnection::upstreamDrained() {
  if (state_ == State::Tunnel) tunnelPump();
}

void ClientConnection::upstreamFailed(UpstreamChannel::Failure, const std::string&) {
  if (state_ == State::Tunnel) endTunnel();
}

void ClientConnection::tunnelPump() {
  if (state_ != State::Tunnel || !relay_.active()) return;
  const WebSocketRelay::Turn turn = relay_.pump(in_.get(), out_, stream_, peerClosed_);
  exchange_->context().bodySent(turn.toClient);
  if (turn.ended) {
    endTunnel();
    return;
  }
  if (turn.clientBlocked) {
    phase_.writeBlocked();
  } else {
    phase_.writeDrained();
  }
  // Each side reads only while the other can take the bytes.
  phase_.inputFull(turn.targetBacklogged);
  phase_.tunnelActivity();
  apply();
}

void ClientConnection::endTunnel() {
  logRequest(loop_.context(), exchange_->context());
  close();
}

}  // namespace portico
