#include "loop/ProxyLoop.h"

#include <cassert>

#include "loop/ClientConnection.h"
#include "loop/Exchange.h"
#include "loop/TlsHandshake.h"
#include "loop/UpstreamChannel.h"

namespace portico {

namespace {

constexpr std::size_t kBufferSize = 16 * 1024;
constexpr std::size_t kKeptBuffers = 256;
constexpr std::size_t kKeptParsers = 1024;
constexpr std::size_t kKeptExchanges = 1024;
// Accepting stops at this many per wake-up, so that a burst of new clients does not hold up the
// requests of those already connected.
constexpr int kAcceptBatch = 16;

}  // namespace

/// One of the shared listening sockets (plain or HTTPS) as this loop's source of clients.
class ProxyLoop::Listener final : public net::Acceptor::Sink {
 public:
  Listener(ProxyLoop& loop, int fd, bool tls)
      : loop_(loop), tls_(tls), acceptor_(loop.events_, fd, *this, kAcceptBatch, "proxy") {}
  net::Acceptor& acceptor() { return acceptor_; }

  bool full() const override {
    return loop_.clientCount_.load(std::memory_order_relaxed) >= loop_.limits_.maxConnections;
  }
  void accepted(net::FileDescriptor fd, const sockaddr_storage& peer) override {
    loop_.accepted(std::move(fd), peer, tls_);
  }

 private:
  ProxyLoop& loop_;
  const bool tls_;
  net::Acceptor acceptor_;
};

ProxyLoop::ProxyLoop(std::size_t index, const ProxyContext& context, const RouteTableSlot& slot,
                     const ClientLimits& limits, int listenFd, int tlsListenFd,
                     const TlsConfigSlot* tls)
    : index_(index),
      context_(context),
      slot_(slot),
      limits_(limits),
      tls_(tls),
      listener_(std::make_unique<Listener>(*this, listenFd, false)),
      tlsListener_(tlsListenFd >= 0 ? std::make_unique<Listener>(*this, tlsListenFd, true)
                                    : nullptr),
      headerTimeouts_(limits.headerTimeout.count()),
      bodyTimeouts_(limits.bodyTimeout.count()),
      sendTimeouts_(limits.sendTimeout.count()),
      keepAliveTimeouts_(limits.keepAliveTimeout.count()),
      lingerTimeouts_(limits.lingerTimeout.count()),
      connectTimeouts_(context.timeouts.connect.count()),
      readTimeouts_(context.timeouts.read.count()),
      upstreamIdleTimeouts_(limits.upstreamIdle.count()),
      buffers_(kBufferSize, kKeptBuffers) {
  for (net::TimerList* list :
       {&headerTimeouts_, &bodyTimeouts_, &sendTimeouts_, &keepAliveTimeouts_, &lingerTimeouts_,
        &connectTimeouts_, &readTimeouts_, &upstreamIdleTimeouts_, &requestDeadlines_})
    events_.watch(*list);
  events_.setBatchEnd([this] { endOfBatch(); });
  scratch_.reserve(4096);
}

ProxyLoop::~ProxyLoop() {
  draining_ = true;  // nothing is accepted again (the listeners may be gone already)
  // Connections first (they give buffers and channels back to this loop), then what they left.
  while (net::ListNode* node = clients_.front()) {
    node->unlink();
    std::unique_ptr<ClientSession>(ClientSession::of(node));
  }
  http2Upstreams_.clear();  // their channels go back to this loop, released below
  upstreamIdleTimeouts_.expire(std::numeric_limits<std::int64_t>::max());
  endOfBatch();
  events_.releaseClosed();  // the channels the recycled exchanges let go
}

void ProxyLoop::run() {
  // Everything this thread counts goes to the loop's own shard, with plain adds.
  if (context_.metrics) context_.metrics->bindLoop(index_);
  updateAccepting();
  events_.run();
  listener_->acceptor().enable(false);
  if (tlsListener_) tlsListener_->acceptor().enable(false);
  acceptStopped_.store(true, std::memory_order_release);
}

void ProxyLoop::updateAccepting() {
  // Past the connection limit new clients wait in the kernel's queue (Listener::full).
  const bool want =
      !draining_ && clientCount_.load(std::memory_order_relaxed) < limits_.maxConnections;
  listener_->acceptor().enable(want);
  if (tlsListener_) tlsListener_->acceptor().enable(want);
}

void ProxyLoop::accepted(net::FileDescriptor fd, const sockaddr_storage& peer, bool tls) {
  if (tls && tls_->version() != tlsVersion_) {
    // Certificates re-read (SIGHUP): new clients get the new ones.
    tlsVersion_ = tls_->version();
    tlsConfig_ = tls_->get();
  }
  if (tls) {
    // The handshake first; it hands the connection to HTTP/1.1 or HTTP/2 (ALPN).
    auto handshake =
        std::make_unique<TlsHandshake>(*this, std::move(fd), peer, tlsConfig_->newSession());
    TlsHandshake& h = *handshake;
    adopt(std::move(handshake));
    h.start();
    return;
  }
  auto connection = std::make_unique<ClientConnection>(*this, std::move(fd), peer);
  ClientConnection& c = *connection;
  adopt(std::move(connection));
  c.start();
}

void ProxyLoop::beginDrain(std::chrono::milliseconds idleGrace) {
  events_.post([this, idleGrace] {
    draining_ = true;
    drainDeadline_ = 0;
    updateAccepting();
    acceptStopped_.store(true, std::memory_order_release);
    if (idleGrace.count() > 0) {
      // The clients' queue is the new process's now; a busy keep-alive client sends its next
      // request within the grace and gets it answered with Connection: close (as Envoy drains).
      idleCloseAt_ = events_.now() + idleGrace.count();
      events_.wakeBy(idleCloseAt_);
      return;
    }
    drainClients();
  });
}

void ProxyLoop::drainClients() {
  // Idle keep-alive connections close now; busy ones after their current response.
  for (net::ListNode* node = clients_.front(); node;) {
    net::ListNode* next = clients_.after(node);
    ClientSession::of(node)->drain();
    node = next;
  }
  if (clientCount_.load(std::memory_order_relaxed) == 0) events_.stop();
}

void ProxyLoop::stop() {
  events_.stop();
}

void ProxyLoop::closeIdleTo(std::vector<std::shared_ptr<TargetState>> targets) {
  events_.post([this, targets = std::move(targets)] {
    for (const auto& t : targets) {
      UpstreamChannel::closeIdle(*this, *t);
      Http2Upstream::retireAll(*this, *t);
    }
  });
}

std::unique_ptr<http::HttpParser> ProxyLoop::takeParser() {
  if (parsers_.empty()) {
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = limits_.maxHeaderBytes;
    limits.maxTargetBytes = limits_.maxTargetBytes;
    return std::make_unique<http::HttpParser>(http::HttpParser::Kind::Request, limits);
  }
  auto p = std::move(parsers_.back());
  parsers_.pop_back();
  p->reset();
  return p;
}

void ProxyLoop::giveParser(std::unique_ptr<http::HttpParser> parser) {
  if (parsers_.size() < kKeptParsers) parsers_.push_back(std::move(parser));
}

net::TimerList* ProxyLoop::clientTimers(ClientPhase::Timeout timeout) {
  // A WebSocket's silence is bounded like a target's (proxy.read_timeout).
  return ClientTimerLists{&headerTimeouts_,    &bodyTimeouts_,   &sendTimeouts_,
                          &keepAliveTimeouts_, &lingerTimeouts_, &readTimeouts_}
      .of(timeout);
}

net::TimerList* ProxyLoop::clientTimers(ClientPhase::Timeout timeout, const Route* route) {
  if (timeout == ClientPhase::Timeout::Send && route && route->rules().sendTimeout.count() > 0)
    return &timersFor(route->rules().sendTimeout);
  return clientTimers(timeout);
}

net::TimerList& ProxyLoop::timersFor(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  for (net::TimerList* list : {&connectTimeouts_, &readTimeouts_, &sendTimeouts_}) {
    if (list->duration() == ms) return *list;
  }
  for (const auto& list : routeTimers_) {
    if (list->duration() == ms) return *list;
  }
  routeTimers_.push_back(std::make_unique<net::TimerList>(ms));
  events_.watch(*routeTimers_.back());
  return *routeTimers_.back();
}

std::unique_ptr<Exchange> ProxyLoop::takeExchange() {
  if (exchanges_.empty()) return std::make_unique<Exchange>(*this);
  auto e = std::move(exchanges_.back());
  exchanges_.pop_back();
  return e;
}

void ProxyLoop::recycle(std::unique_ptr<Exchange> exchange) {
  finishedExchanges_.push_back(std::move(exchange));
}

void ProxyLoop::release(std::unique_ptr<UpstreamChannel> channel) {
  if (!channel) return;
  channel->close();  // no event of this batch may reach its former owner
  events_.releaseLater(std::move(channel));
}

void ProxyLoop::adopt(std::unique_ptr<ClientSession> connection) {
  clients_.pushBack(connection->node());
  (void)connection.release();  // owned through clients_ until closed()
  clientCount_.fetch_add(1, std::memory_order_relaxed);
}

void ProxyLoop::closed(ClientSession& connection) {
  assert(connection.node().linked());  // closed once
  connection.node().unlink();
  events_.releaseLater(std::unique_ptr<ClientSession>(&connection));
  clientCount_.fetch_sub(1, std::memory_order_relaxed);
}

void ProxyLoop::endOfBatch() {
  // The batch's output first: a write that fails closes its connection, released below.
  deferredWrites_.flush();
  // Then what this batch closed: the connections hand their exchanges back to be recycled
  // below (the loop releases what is left after this hook).
  events_.releaseClosed();
  for (auto& e : finishedExchanges_) {
    e->clear();
    if (exchanges_.size() < kKeptExchanges) exchanges_.push_back(std::move(e));
  }
  finishedExchanges_.clear();
  if (!draining_) {
    updateAccepting();
  } else if (idleCloseAt_ != 0 && events_.now() >= idleCloseAt_) {
    idleCloseAt_ = 0;
    drainClients();
  } else if (clientCount_.load(std::memory_order_relaxed) == 0) {
    events_.stop();
  }
}

}  // namespace portico
