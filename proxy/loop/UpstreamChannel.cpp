#include "loop/UpstreamChannel.h"

#include <openssl/ssl.h>
#include <sys/epoll.h>

#include <cassert>

#include "balance/TargetState.h"
#include "loop/ProxyLoop.h"

namespace portico {

/// The member that links parked channels into TargetState::idle.
struct UpstreamIdle {
  static UpstreamChannel* of(net::ListNode* node) {
    return net::owner<UpstreamChannel, &UpstreamChannel::idleNode_>(node);
  }
};

UpstreamChannel::UpstreamChannel(ProxyLoop& loop, std::shared_ptr<TargetState> target)
    : loop_(loop),
      target_(std::move(target)),
      timer_(*this, kConnect),
      registration_(loop.events(), *this) {}

UpstreamChannel::~UpstreamChannel() {
  closeNow();
}

net::Buffer& UpstreamChannel::input() {
  if (!in_) in_ = loop_.buffers().take();
  return *in_;
}

void UpstreamChannel::connect(Owner& owner, net::TimerList& connectTimers) {
  owner_ = &owner;
  connectTimers_ = &connectTimers;
  std::string error;
  net::FileDescriptor fd;
  if (target_->addresses.empty()) {
    fail(Failure::ConnectRefused, target_->resolveError);
    return;
  }
  const net::Io io = net::connectTcp(target_->addresses, fd, error);
  if (io == net::Io::Failed) {
    fail(Failure::ConnectRefused, "connect: " + error);
    return;
  }
  stream_ = net::Stream(std::move(fd));
  timer_.tag = kConnect;
  connectTimers_->arm(timer_, loop_.events().now());
  if (io == net::Io::Ok) {
    connectedTcp();
  } else {
    updateInterest();
  }
}

void UpstreamChannel::connectedTcp() {
  if (!target_->url.tls) {
    established();
    return;
  }
  const net::TlsClientConfig* tls = loop_.context().upstreamTls.get();
  IdleConnections* here =
      target_->loopCount > loop_.index() ? target_->idleIn(loop_.index()) : nullptr;
  net::SslPtr ssl =
      tls ? tls->newSession(target_->url.host, here ? here->tlsSession.get() : nullptr, alpn_)
          : nullptr;
  if (!ssl) {
    fail(Failure::Handshake, "TLS with " + target_->authority + ": " +
                                 (tls ? net::sslErrors() : std::string("no TLS client context")));
    return;
  }
  stream_.startTls(std::move(ssl));
  handshaking_ = true;
  // The handshake gets a connect timeout of its own, as the dial and the handshake are two
  // steps with their own limits in the library Portico re-implements.
  timer_.tag = kConnect;
  connectTimers_->arm(timer_, loop_.events().now());
  continueHandshake();
}

void UpstreamChannel::continueHandshake() {
  std::string error;
  const net::Io io = stream_.handshake(error);
  if (io == net::Io::Again) {
    updateInterest();
    return;
  }
  handshaking_ = false;
  if (io != net::Io::Ok) {
    static constexpr std::string_view kGeneric = "TLS handshake failed: ";
    if (error.compare(0, kGeneric.size(), kGeneric) == 0) error.erase(0, kGeneric.size());
    fail(Failure::Handshake, "TLS handshake with " + target_->authority + ": " + error);
    return;
  }
  if (ProxyMetrics* metrics = loop_.context().metrics)
    metrics->upstreamTlsHandshake(metrics->threadShard(), resumedTls());
  established();
}

void UpstreamChannel::established() {
  connected_ = true;
  timer_.cancel();
  updateInterest();
  owner_->upstreamConnected();
}

std::string_view UpstreamChannel::protocol() const {
  return stream_.tls() ? net::negotiatedProtocol(stream_.ssl()) : std::string_view();
}

bool UpstreamChannel::resumedTls() const {
  return stream_.tls() && SSL_session_reused(stream_.ssl()) == 1;
}

void UpstreamChannel::keepTlsSession() {
  // TLS 1.3 tickets arrive after the handshake, with or after the first response: by the time a
  // connection is parked its session is resumable if it ever will be.
  if (sessionKept_ || !stream_.tls() || target_->loopCount <= loop_.index()) return;
  sessionKept_ = true;
  net::SslSessionPtr session(SSL_get1_session(stream_.ssl()));
  if (session && SSL_SESSION_is_resumable(session.get()))
    target_->idleFor(loop_.index()).tlsSession = std::move(session);
}

bool UpstreamChannel::idleStillUsable() {
  // In the clear nothing may arrive on an idle HTTP/1.1 connection. Through TLS a target may
  // still send records that carry no data (a TLS 1.3 session ticket, a key update): reading
  // consumes them, and only data or the end of the connection makes it useless.
  if (!stream_.tls()) return false;
  char byte[1];
  std::size_t n = 0;
  return stream_.read(byte, sizeof byte, n) == net::Io::Again;
}

std::unique_ptr<UpstreamChannel> UpstreamChannel::takeIdle(ProxyLoop& loop, TargetState& target) {
  if (target.loopCount <= loop.index()) return nullptr;
  IdleConnections* idle = target.idleIn(loop.index());
  net::ListNode* node = idle ? idle->list.back() : nullptr;
  if (!node) return nullptr;
  UpstreamChannel* channel = UpstreamIdle::of(node);
  channel->leaveIdle();
  channel->timer_.cancel();
  channel->reused_ = true;
  return std::unique_ptr<UpstreamChannel>(channel);
}

void UpstreamChannel::adopt(Owner& owner) {
  owner_ = &owner;
}

void UpstreamChannel::park(std::unique_ptr<UpstreamChannel> channel) {
  UpstreamChannel& c = *channel;
  TargetState& target = *c.target_;
  ProxyLoop& loop = c.loop_;
  if (c.closed_ || c.peerClosed_ || target.retired.load(std::memory_order_relaxed) ||
      target.loopCount <= loop.index() || loop.draining() ||
      target.idleFor(loop.index()).count >= kMaxIdle) {
    loop.release(std::move(channel));
    return;
  }
  c.keepTlsSession();
  c.owner_ = nullptr;
  c.out_.clear();
  if (c.in_) {
    loop.buffers().give(std::move(c.in_));
  }
  c.readingPaused_ = false;
  c.writeBlocked_ = false;
  c.updateInterest();
  c.timer_.tag = kIdle;
  loop.upstreamIdleTimeouts().arm(c.timer_, loop.events().now());
  IdleConnections& idle = target.idleFor(loop.index());
  idle.list.pushBack(c.idleNode_);
  ++idle.count;
  target.idleConnections.fetch_add(1, std::memory_order_relaxed);
  (void)channel.release();  // owned by the idle list (and its timer) until taken or closed
}

void UpstreamChannel::closeIdle(ProxyLoop& loop, TargetState& target) {
  if (target.loopCount <= loop.index()) return;
  IdleConnections* lists = target.idleIn(loop.index());
  if (!lists) return;
  while (net::ListNode* node = lists->list.front()) {
    UpstreamChannel* channel = UpstreamIdle::of(node);
    channel->leaveIdle();
    channel->timer_.cancel();
    loop.release(std::unique_ptr<UpstreamChannel>(channel));
  }
}

net::Io UpstreamChannel::flush() {
  if (out_.empty()) return net::Io::Ok;
  const net::Io io = out_.flush(stream_);
  const bool blocked = io == net::Io::Again;
  if (blocked != writeBlocked_) {
    writeBlocked_ = blocked;
    updateInterest();
  }
  return io == net::Io::Closed ? net::Io::Failed : io;
}

void UpstreamChannel::pauseReading(bool paused) {
  if (readingPaused_ == paused) return;
  readingPaused_ = paused;
  updateInterest();
  if (!paused && stream_.pending()) {
    // TLS holds decrypted bytes no socket event will announce: read them on the next turn (not
    // now: the owner resuming us is in the middle of its own work).
    if (!alive_) alive_ = std::make_shared<char>(0);
    loop_.events().post([this, alive = std::weak_ptr<char>(alive_)] {
      if (alive.lock() && owner_ && !readingPaused_ && stream_.pending()) readInput();
    });
  }
}

void UpstreamChannel::armReadTimeout(net::TimerList& readTimers) {
  timer_.tag = kRead;
  readTimers.arm(timer_, loop_.events().now());
}

void UpstreamChannel::abort() {
  if (closed_) return;  // reachable: an exchange aborts a channel that failed (and closed) first
  stream_.abort();
  closeNow();
}

void UpstreamChannel::updateInterest() {
  // Reachable: an exchange pauses a channel it let go within the same call (the client left).
  if (closed_) return;
  assert(stream_.open());
  std::uint32_t events = 0;
  if (peerClosed_) {
    // Level-triggered HUP would be reported on every turn from now on: the owner has been told
    // (or will look when it resumes), so the descriptor leaves the loop.
    events = 0;
  } else if (handshaking_) {
    events = stream_.wantsWrite() ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  } else {
    if (!connected_ || writeBlocked_ || stream_.wantsWrite()) events |= EPOLLOUT;
    if (connected_ && !readingPaused_) events |= EPOLLIN | EPOLLRDHUP;
  }
  // Out of kernel memory for epoll: treated like a broken connection on the next turn.
  if (!registration_.want(stream_.fd(), events)) peerClosed_ = true;
}

void UpstreamChannel::closeNow() {
  owner_ = nullptr;
  if (closed_) return;  // reachable: the destructor of a channel closed when it was released
  closed_ = true;
  timer_.cancel();
  leaveIdle();
  registration_.forget();  // closing the descriptor takes it out of the epoll set
  stream_.close();
  if (in_) loop_.buffers().give(std::move(in_));
  out_.clear();
}

void UpstreamChannel::leaveIdle() {
  if (!idleNode_.linked()) return;
  idleNode_.unlink();
  --target_->idleIn(loop_.index())->count;  // linked: the lists were made
  target_->idleConnections.fetch_sub(1, std::memory_order_relaxed);
}

void UpstreamChannel::fail(Failure failure, const std::string& error) {
  Owner* owner = owner_;
  closeNow();
  if (owner) owner->upstreamFailed(failure, error);
}

void UpstreamChannel::onEvent(std::uint32_t events) {
  if (closed_) return;  // closed earlier in this batch
  if (!owner_) {
    // Parked: readable means the target closed it (or sent garbage): either way it is of no
    // further use.
    if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && idleStillUsable()) {
      updateInterest();
      return;
    }
    leaveIdle();
    timer_.cancel();
    loop_.release(std::unique_ptr<UpstreamChannel>(this));
    return;
  }
  if (handshaking_) {
    continueHandshake();
    return;
  }
  if (!connected_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    std::string error;
    if (net::finishConnect(stream_.fd(), error) != net::Io::Ok) {
      fail(Failure::ConnectRefused, "connect: " + error);
      return;
    }
    connectedTcp();
    return;
  }
  if ((events & EPOLLOUT) && stream_.wantsWrite() && !writeBlocked_) {
    // A TLS read that had to write first (a key update's answer): retry it.
    events |= EPOLLIN;
  }
  if ((events & EPOLLOUT) && writeBlocked_) {
    const net::Io io = flush();
    if (io == net::Io::Failed) {
      fail(Failure::Reset, "connection reset by the target");
      return;
    }
    if (io == net::Io::Ok) {
      owner_->upstreamDrained();
      if (closed_ || !owner_) return;  // the owner let the channel go (or parked it)
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readInput();
}

void UpstreamChannel::readInput() {
  // More than one round only through TLS, when a full buffer left decrypted bytes behind and
  // the owner consumed some without pausing.
  for (;;) {
    net::Buffer& in = input();
    if (in.space() == 0) in.compact();
    std::size_t n = 0;
    const net::Io io = in.space() > 0 ? stream_.read(in.writePtr(), in.space(), n) : net::Io::Again;
    if (io == net::Io::Ok) {
      in.produced(n);
      owner_->upstreamReadable();
      // The owner may have let the channel go, parked or paused it.
      if (closed_ || !owner_ || readingPaused_ || !stream_.pending()) return;
      if (input().space() == 0 && input().unconsumed() == input().capacity()) return;
      continue;
    }
    if (io == net::Io::Closed) {
      peerClosed_ = true;
      updateInterest();
      owner_->upstreamReadable();
      return;
    }
    if (io == net::Io::Failed) {
      fail(Failure::Reset, "connection reset by the target");
      return;
    }
    return;
  }
}

void UpstreamChannel::onTimeout(int tag) {
  switch (tag) {
    case kConnect:
      fail(Failure::ConnectTimeout, handshaking_
                                        ? "TLS handshake with " + target_->authority + ": timed out"
                                        : std::string("connect: timed out"));
      break;
    case kRead:
      if (owner_) owner_->upstreamFailed(Failure::ReadTimeout, "timed out");
      break;
    case kIdle:
      leaveIdle();
      loop_.release(std::unique_ptr<UpstreamChannel>(this));
      break;
  }
}

}  // namespace portico
