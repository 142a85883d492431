#include "UpstreamChannel.h"

#include <sys/epoll.h>

#include "ProxyLoop.h"
#include "TargetState.h"

namespace portico {

/// The member that links parked channels into TargetState::idle.
struct UpstreamIdle {
  static UpstreamChannel* of(net::ListNode* node) {
    return net::owner<UpstreamChannel, &UpstreamChannel::idleNode_>(node);
  }
};

UpstreamChannel::UpstreamChannel(ProxyLoop& loop, std::shared_ptr<TargetState> target)
    : loop_(loop), target_(std::move(target)), timer_(*this, kConnect) {}

UpstreamChannel::~UpstreamChannel() {
  closeNow();
}

net::Buffer& UpstreamChannel::input() {
  if (!in_) in_ = loop_.buffers().take();
  return *in_;
}

void UpstreamChannel::connect(Owner& owner) {
  owner_ = &owner;
  std::string error;
  net::FileDescriptor fd;
  const net::Io io = net::connectTcp(target_->url.host, target_->url.port, fd, error);
  if (io == net::Io::Failed) {
    fail(Failure::ConnectRefused, "connect: " + error);
    return;
  }
  stream_ = net::Stream(std::move(fd));
  connected_ = io == net::Io::Ok;
  updateInterest();
  if (connected_) {
    owner_->upstreamConnected();
    return;
  }
  timer_.tag = kConnect;
  loop_.connectTimeouts().arm(timer_, loop_.events().now());
}

std::unique_ptr<UpstreamChannel> UpstreamChannel::takeIdle(ProxyLoop& loop, TargetState& target) {
  if (target.loopCount <= loop.index()) return nullptr;
  net::ListNode* node = target.idle[loop.index()].list.back();
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
      target.idle[loop.index()].count >= kMaxIdle) {
    loop.release(std::move(channel));
    return;
  }
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
  target.idle[loop.index()].list.pushBack(c.idleNode_);
  ++target.idle[loop.index()].count;
  target.idleConnections.fetch_add(1, std::memory_order_relaxed);
  channel.release();  // owned by the idle list (and its timer) until taken or closed
}

void UpstreamChannel::closeIdle(ProxyLoop& loop, TargetState& target) {
  if (target.loopCount <= loop.index()) return;
  net::IntrusiveList& idle = target.idle[loop.index()].list;
  while (net::ListNode* node = idle.front()) {
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
}

void UpstreamChannel::armReadTimeout() {
  timer_.tag = kRead;
  loop_.readTimeouts().arm(timer_, loop_.events().now());
}

void UpstreamChannel::abort() {
  if (closed_) return;
  stream_.abort();
  closeNow();
}

void UpstreamChannel::updateInterest() {
  if (closed_ || !stream_.open()) return;
  if (peerClosed_) {
    // Level-triggered HUP would be reported on every turn from now on: the owner has been told
    // (or will look when it resumes), so the descriptor leaves the loop.
    if (registered_) loop_.events().remove(stream_.fd());
    registered_ = false;
    return;
  }
  std::uint32_t events = 0;
  if (!connected_ || writeBlocked_) events |= EPOLLOUT;
  if (connected_ && !readingPaused_) events |= EPOLLIN | EPOLLRDHUP;
  if (registered_ && events == interest_) return;
  try {
    if (registered_) {
      loop_.events().modify(stream_.fd(), events, *this);
    } else {
      loop_.events().add(stream_.fd(), events, *this);
      registered_ = true;
    }
    interest_ = events;
  } catch (const std::exception&) {
    // Out of kernel memory for epoll: treated like a broken connection on the next turn.
    peerClosed_ = true;
  }
}

void UpstreamChannel::closeNow() {
  owner_ = nullptr;
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  leaveIdle();
  registered_ = false;  // closing the descriptor takes it out of the epoll set
  stream_.close();
  if (in_) loop_.buffers().give(std::move(in_));
  out_.clear();
}

void UpstreamChannel::leaveIdle() {
  if (!idleNode_.linked()) return;
  idleNode_.unlink();
  --target_->idle[loop_.index()].count;
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
    // Parked: nothing may arrive on an idle HTTP/1.1 connection. Readable means the target
    // closed it (or sent garbage): either way it is of no further use.
    leaveIdle();
    timer_.cancel();
    loop_.release(std::unique_ptr<UpstreamChannel>(this));
    return;
  }
  if (!connected_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    std::string error;
    if (net::finishConnect(stream_.fd(), error) != net::Io::Ok) {
      fail(Failure::ConnectRefused, "connect: " + error);
      return;
    }
    connected_ = true;
    timer_.cancel();
    updateInterest();
    owner_->upstreamConnected();
    return;
  }
  if ((events & EPOLLOUT) && writeBlocked_) {
    const net::Io io = flush();
    if (io == net::Io::Failed) {
      fail(Failure::Reset, "connection reset by the target");
      return;
    }
    if (io == net::Io::Ok) {
      owner_->upstreamDrained();
      if (closed_ || !owner_) return;
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    net::Buffer& in = input();
    if (in.space() == 0) in.compact();
    std::size_t n = 0;
    const net::Io io =
        in.space() > 0 ? stream_.read(in.writePtr(), in.space(), n) : net::Io::Again;
    if (io == net::Io::Ok) {
      in.produced(n);
      owner_->upstreamReadable();
      return;
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
  }
}

void UpstreamChannel::onTimeout(int tag) {
  switch (tag) {
    case kConnect:
      fail(Failure::ConnectTimeout, "connect: timed out");
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
