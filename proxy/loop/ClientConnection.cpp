#include "loop/ClientConnection.h"

#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/Duration.h"
#include "base/Log.h"
#include "forward/JsonError.h"
#include "http/HttpDate.h"
#include "http/NumberText.h"
#include "loop/Http2Connection.h"
#include "loop/ProxyLoop.h"
#include "loop/RequestLog.h"
#include "observe/AccessLog.h"
#include "observe/ProxyMetrics.h"
#include "routing/RequestRouting.h"

namespace portico {
namespace {

using Status = http::HttpParser::Status;

void appendChunkSize(net::Outbox& out, std::size_t n) {
  char text[24];
  out.append(http::chunkSizeLine(n, text));
}

}  // namespace

ClientConnection::ClientConnection(ProxyLoop& loop, net::FileDescriptor fd,
                                   const sockaddr_storage& peer, net::SslPtr tls)
    : loop_(loop), stream_(std::move(fd)), timer_(*this, 0), registration_(loop.events(), *this) {
  if (tls) {
    stream_.startTls(std::move(tls));
    handshaking_ = true;  // within the header timeout, like the first request head
  }
  peer_ = net::addressText(peer);
  peerTrusted_ = loop_.context().trusted.contains(reinterpret_cast<const sockaddr&>(peer));
  if (ProxyMetrics* m = loop_.context().metrics) m->clientConnectionOpened(m->threadShard());
}

ClientConnection::~ClientConnection() {
  if (ProxyMetrics* m = loop_.context().metrics) m->clientConnectionClosed(m->threadShard());
  timer_.cancel();
  if (exchange_) {
    if (!exchange_->finished()) exchange_->clientGone();
    loop_.recycle(std::move(exchange_));
  }
  if (tunnel_) loop_.release(std::move(tunnel_));
  if (in_) loop_.buffers().give(std::move(in_));
  if (parser_) loop_.giveParser(std::move(parser_));
}

void ClientConnection::start() {
  // A new connection has the header timeout for its first request, as in nginx.
  started_ = std::chrono::steady_clock::now();
  apply();
}

void ClientConnection::drain() {
  draining_ = true;
  if (state_ == State::Waiting && (!in_ || in_->unconsumed() == 0)) close();
}

net::TimerList* ClientConnection::timerList(ClientPhase::Timeout timeout) {
  using T = ClientPhase::Timeout;
  switch (timeout) {
    case T::Header:
      return &loop_.headerTimeouts();
    case T::Body:
      return &loop_.bodyTimeouts();
    case T::Send:
      return &loop_.sendTimeouts();
    case T::KeepAlive:
      return &loop_.keepAliveTimeouts();
    case T::Linger:
      return &loop_.lingerTimeouts();
    case T::Tunnel:
      return &loop_.readTimeouts();
    case T::None:
      break;
  }
  return nullptr;
}

void ClientConnection::apply() {
  if (state_ == State::Closed) return;
  const ClientPhase::Timeout timeout = phase_.timeout();
  const bool restart = phase_.takeRestart();
  if (timeout != armed_ || restart) {
    armed_ = timeout;
    timer_.tag = static_cast<int>(timeout);
    if (net::TimerList* list = timerList(timeout)) {
      list->arm(timer_, loop_.events().now());
    } else {
      timer_.cancel();
    }
  }
  updateInterest();
  // Reading resumed while TLS holds decrypted bytes: no socket event will announce them.
  if (!reading_ && !handshaking_ && phase_.reading() && stream_.pending()) readInput();
}

void ClientConnection::updateInterest() {
  assert(state_ != State::Closed && stream_.open());  // apply() and the handshake check first
  std::uint32_t events = 0;
  if (handshaking_) {
    events = stream_.wantsWrite() ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  } else {
    // TLS may need to write to go on reading (a key update): that is a write wait too.
    if (phase_.reading()) events |= stream_.wantsWrite() ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    if (phase_.writing()) events |= EPOLLOUT;
  }
  // No events: out of the loop until there is something to wait for again (Registration).
  if (!registration_.want(stream_.fd(), events)) {
    logLine(std::string("proxy: cannot watch a client connection: ") + std::strerror(errno));
    abort();
  }
}

void ClientConnection::onEvent(std::uint32_t events) {
  if (state_ == State::Closed) return;  // closed earlier in this batch
  if (handshaking_) {
    continueHandshake();
    return;
  }
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

void ClientConnection::continueHandshake() {
  std::string error;
  const net::Io io = stream_.handshake(error);
  if (io == net::Io::Again) {
    updateInterest();
    return;
  }
  if (io == net::Io::Failed) {
    // Scanners and clients that do not trust the certificate end here; not worth a log line
    // each (the metrics count closed connections).
    abort();
    return;
  }
  handshaking_ = false;
  if (net::negotiatedProtocol(stream_.ssl()) == "h2") {
    // HTTP/2 from here on: the connection's socket moves to an Http2Connection, which registers
    // it anew, and this connection goes away without closing it.
    registration_.leave();
    auto h2 = std::make_unique<Http2Connection>(loop_, std::move(stream_), peer_, peerTrusted_);
    Http2Connection& c = *h2;
    loop_.adopt(std::move(h2));
    close();
    c.start();
    return;
  }
  updateInterest();
  readInput();  // the first request may have come with the handshake
}

void ClientConnection::readInput() {
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
  if (state_ == State::Closed || peerClosed_) return false;
  if (!in_) in_ = loop_.buffers().take();
  if (in_->space() == 0) {
    if (state_ == State::Head) {
      // A head longer than one buffer: up to the limit (the parser answers 431 past it).
      const std::size_t limit = loop_.limits().maxHeaderBytes + 1024;
      if (in_->capacity() < limit) in_->grow(limit);
    } else if (state_ == State::Lingering) {
      in_->reset();
    } else if (in_->begin() > 0 && state_ != State::Head) {
      in_->compact();
    }
    if (in_->space() == 0) {
      // Full of pipelined requests or body bytes the target cannot take yet: read on later.
      phase_.inputFull(true);
      apply();
      return false;
    }
  }
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
  for (;;) {
    switch (state_) {
      case State::Waiting:
      case State::Head: {
        if (!in_ || in_->unconsumed() == 0) {
          if (peerClosed_) close();  // between requests, or inside a head: nothing to answer
          return;
        }
        if (state_ == State::Waiting) {
          state_ = State::Head;
          started_ = std::chrono::steady_clock::now();
          phase_.headStarted();
          apply();
        }
        if (!parser_) parser_ = loop_.takeParser();
        std::size_t used = 0;
        const Status status = parser_->feed(in_->data(), in_->begin(), in_->end(), nullptr, used);
        in_->consumed(used);
        if (status == Status::Error) {
          ownAnswer(parser_->errorStatus(), parser_->errorMessage());
          return;
        }
        if (status == Status::NeedMore) {
          if (peerClosed_) close();
          return;
        }
        dispatch();
        continue;
      }
      case State::Forwarding: {
        if (exchangeEnded_) return;  // flushing the response; pipelined input waits
        if (!requestComplete_) {
          if (!bodyWanted_) return;  // the target is not ready for the body yet
          std::size_t used = 0;
          const Status status = parser_->feed(in_->data(), in_->begin(), in_->end(), this, used);
          in_->consumed(used);
          if (used > 0) {
            bodyStarted_ = true;
            phase_.bodyProgress();
          }
          if (status == Status::NeedMore && in_->unconsumed() == 0 && peerClosed_) {
            // The client went away before its body was complete: the target must see an
            // aborted connection, never a complete-looking request.
            clientGone();
            return;
          }
          if (status == Status::Error) {
            const std::string why = parser_->errorMessage();
            if (exchange_) exchange_->clientGone();
            if (exchange_ && exchange_->status() != 0 && exchange_->status() != 499) {
              abort();
            } else {
              ownAnswer(parser_->errorStatus(), "malformed request body: " + why);
            }
            return;
          }
          if (status == Status::MessageComplete) {
            requestComplete_ = true;
            phase_.requestComplete();  // the target owes the answer now; its read timeout runs
            exchange_->requestBodyEnd();
          }
          const bool flowing = exchange_->flushRequest();
          if (state_ != State::Forwarding || exchangeEnded_ || !exchange_) return;
          if (in_->unconsumed() == 0) in_->reset();
          if (!flowing) {
            bodyWanted_ = false;
            if (!requestComplete_) phase_.bodyBacklogged();  // the target is slow, not the client
            apply();
            return;
          }
          phase_.inputFull(false);
          apply();
          if (!requestComplete_ && in_->unconsumed() > 0) continue;
          return;
        }
        // The request is in; the response is on its way. A client that hangs up now is gone.
        if (peerClosed_ && (!in_ || in_->unconsumed() == 0)) clientGone();
        return;
      }
      case State::Tunnel:
        tunnelPump();
        return;
      case State::Lingering:
        if (in_) in_->reset();
        if (peerClosed_) close();
        return;
      case State::Closed:
        return;
    }
  }
}

void ClientConnection::dispatch() {
  http::HttpHead& head = parser_->head();
  parser_->detachHead();
  // A request without a body is complete with its head.
  std::size_t used = 0;
  requestComplete_ = parser_->feed(in_->data(), in_->begin(), in_->begin(), nullptr, used) ==
                     Status::MessageComplete;
  phase_.headComplete(requestComplete_);
  apply();
  state_ = State::Forwarding;
  exchangeEnded_ = bodyWanted_ = continueSent_ = bodyStarted_ = false;
  chunkedResponse_ = closeAfter_ = false;
  ownStatus_ = 0;
  ownBytes_ = 0;

  const std::shared_ptr<const RouteTable>& table = loop_.table();
  RequestRouting routing = RequestRouting::of(*table, head.target());
  if (!routing.route) {
    ownAnswer(routing.status, routing.message);
    return;
  }
  exchange_ = loop_.takeExchange();
  exchange_->start(*this, table, *routing.route, head, std::move(routing.resolved), peer_,
                   peerTrusted_, stream_.tls());
}

void ClientConnection::data(const char* bytes, std::size_t size) {
  if (exchange_) exchange_->requestBody(std::string_view(bytes, size));
}

void ClientConnection::requestBodyWanted() {
  if (state_ != State::Forwarding || requestComplete_ || exchangeEnded_) return;
  bodyWanted_ = true;
  // The client waits for a go-ahead before sending its body (RFC 9110 10.1.1): now that a
  // target is ready to take it.
  if (exchange_ && exchange_->policy().expectsContinue() && !continueSent_ && !bodyStarted_ &&
      (!in_ || in_->unconsumed() == 0)) {
    continueSent_ = true;
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    if (!flushOut()) return;
  }
  phase_.bodyWanted();
  phase_.inputFull(false);
  apply();
  process();
}

void ClientConnection::responseHead(const http::HttpHead& upstream,
                                    const ForwardingPolicy::Response& plan) {
  const bool keepAlive = parser_->keepAlive() && !plan.closeClient && requestComplete_ &&
                         !draining_ && !loop_.draining();
  closeAfter_ = !keepAlive;
  chunkedResponse_ = plan.client == http::BodyFraming::Chunked;
  std::string& head = loop_.scratch();
  head.clear();
  exchange_->policy().writeResponseHead(upstream, plan, keepAlive, head);
  out_.append(head);
}

void ClientConnection::responseBody(std::string_view bytes) {
  if (bytes.empty()) return;
  if (chunkedResponse_) {
    appendChunkSize(out_, bytes.size());
    out_.reference(bytes);
    out_.append("\r\n");
  } else {
    out_.reference(bytes);
  }
}

bool ClientConnection::flushResponse() {
  return flushOut();
}

void ClientConnection::responseEnd() {
  if (state_ == State::Closed) return;
  if (chunkedResponse_) out_.append("0\r\n\r\n");
  exchangeEnded_ = true;
  flushOut();
}

void ClientConnection::answer(const ProxyAnswer& a) {
  if (state_ == State::Closed) return;
  ownAnswer(a.status, a.message);
}

void ClientConnection::ownAnswer(int status, std::string_view message) {
  // Without the whole request read, where the next one would start is unknown: close after.
  const bool keepAlive =
      requestComplete_ && parser_ && parser_->keepAlive() && !draining_ && !loop_.draining();
  const std::string body = JsonError::body(message);
  std::string& head = loop_.scratch();
  head.clear();
  char line[64];
  const int n = std::snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
  head.append(line, static_cast<std::size_t>(n));
  head.append(http::reasonPhrase(status)).append("\r\nDate: ").append(http::httpDate());
  head.append("\r\nServer: portico\r\nContent-Type: application/json\r\nContent-Length: ");
  head.append(std::to_string(body.size())).append("\r\n");
  if (!keepAlive) head.append("Connection: close\r\n");
  head.append("\r\n").append(body);
  out_.append(head);
  closeAfter_ = !keepAlive;
  chunkedResponse_ = false;
  ownStatus_ = status;
  ownBytes_ = body.size();
  state_ = State::Forwarding;
  exchangeEnded_ = true;
  flushOut();
}

void ClientConnection::abortResponse() {
  if (state_ == State::Closed) return;
  abort();
}

bool ClientConnection::flushOut() {
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
    if (state_ == State::Forwarding && !exchangeEnded_ && exchange_) {
      exchange_->clientDrained();
      if (state_ == State::Closed) return false;
    }
    if (state_ == State::Tunnel) tunnelPump();
  }
  if (state_ == State::Forwarding && exchangeEnded_) exchangeDone();
  return true;
}

void ClientConnection::exchangeDone() {
  const int status = ownStatus_ != 0 ? ownStatus_ : (exchange_ ? exchange_->status() : 0);
  const std::uint64_t bytes =
      ownStatus_ != 0 ? ownBytes_ : (exchange_ ? exchange_->bytesSent() : 0);
  logAccess(status, bytes);
  if (exchange_) loop_.recycle(std::move(exchange_));
  if (!requestComplete_) {
    // The body was never read: whatever the client still sends is drained, not parsed.
    lingerClose();
    return;
  }
  if (closeAfter_ || draining_ || loop_.draining()) {
    close();
    return;
  }
  nextRequest();
}

void ClientConnection::nextRequest() {
  state_ = State::Waiting;
  requestComplete_ = exchangeEnded_ = bodyWanted_ = false;
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

void ClientConnection::logAccess(int status, std::uint64_t bytes) {
  const bool haveHead = parser_ && parser_->headComplete();
  logRequest(loop_, haveHead ? &parser_->head() : nullptr,
             haveHead && parser_->head().versionMinor() == 0 ? "HTTP/1.0" : "HTTP/1.1",
             exchange_.get(), peer_, status, bytes, started_);
}

void ClientConnection::clientGone() {
  if (state_ == State::Closed) return;
  if (state_ == State::Tunnel) {
    endTunnel();
    return;
  }
  if (exchange_ && !exchange_->finished()) {
    exchange_->clientGone();
    logAccess(499, exchange_->bytesSent());
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
  if (state_ == State::Closed) return;  // reachable: apply() aborted (epoll refused), then close()
  state_ = State::Closed;
  timer_.cancel();
  if (exchange_) {
    if (!exchange_->finished()) exchange_->clientGone();
    loop_.recycle(std::move(exchange_));
  }
  if (tunnel_) {
    tunnel_->abort();
    loop_.release(std::move(tunnel_));
  }
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
        ownAnswer(408, "request head not received within " +
                           formatDuration(loop_.limits().headerTimeout));
      } else {
        close();  // never sent a byte
      }
      return;
    case T::Body:
      // The client stopped sending its body: the target must not take what came as complete.
      if (exchange_ && !exchange_->finished()) exchange_->clientGone();
      if (exchange_ && exchange_->status() != 0 && exchange_->status() != 499) {
        abort();
      } else {
        ownAnswer(408,
                  "request body not received within " + formatDuration(loop_.limits().bodyTimeout));
      }
      return;
    case T::Send:
      // The client stopped reading: it pays with its connection, not the loop with memory.
      if (exchange_ && !exchange_->finished()) exchange_->clientGone();
      abort();
      return;
    case T::Tunnel:
      endTunnel();
      return;
  }
}

// --- WebSocket tunnel ---------------------------------------------------------------------

void ClientConnection::tunnel(const http::HttpHead& upstream,
                              const ForwardingPolicy::Response& plan,
                              std::unique_ptr<UpstreamChannel> upstreamChannel) {
  std::string& head = loop_.scratch();
  head.clear();
  exchange_->policy().writeResponseHead(upstream, plan, true, head);
  out_.append(head);
  tunnel_ = std::move(upstreamChannel);
  tunnel_->adopt(*this);
  state_ = State::Tunnel;
  ownStatus_ = 101;
  ownBytes_ = 0;
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
  if (state_ != State::Tunnel || !tunnel_) return;
  // Client to target.
  if (in_ && in_->unconsumed() > 0) {
    tunnel_->outbox().append(std::string_view(in_->data() + in_->begin(), in_->unconsumed()));
    in_->reset();
  }
  if (tunnel_->flush() == net::Io::Failed) {
    endTunnel();
    return;
  }
  // Target to client.
  net::Buffer& up = tunnel_->input();
  if (up.unconsumed() > 0) {
    ownBytes_ += up.unconsumed();
    out_.append(std::string_view(up.data() + up.begin(), up.unconsumed()));
    up.reset();
  }
  const net::Io io = out_.flush(stream_);
  if (io == net::Io::Failed || io == net::Io::Closed) {
    endTunnel();
    return;
  }
  const bool clientBlocked = io == net::Io::Again;
  if (clientBlocked) {
    phase_.writeBlocked();
  } else {
    phase_.writeDrained();
  }
  // Each side reads only while the other can take the bytes.
  phase_.inputFull(!tunnel_->outbox().empty());
  tunnel_->pauseReading(clientBlocked);
  // A side's end is passed on as a half-close once everything before it went through.
  if (peerClosed_ && !tunnelClientEof_ && tunnel_->outbox().empty()) {
    tunnelClientEof_ = true;
    tunnel_->shutdownWrite();
  }
  if (tunnel_->closedByPeer() && !tunnelUpstreamEof_ && out_.empty()) {
    tunnelUpstreamEof_ = true;
    stream_.shutdownWrite();
  }
  if (tunnelClientEof_ && tunnelUpstreamEof_) {
    endTunnel();
    return;
  }
  phase_.tunnelActivity();
  apply();
}

void ClientConnection::endTunnel() {
  logAccess(101, ownBytes_);
  close();
}

}  // namespace portico
