#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "balance/PickState.h"
#include "forward/ProxyContext.h"
#include "http/ClientTimerLists.h"
#include "http/HttpParser.h"
#include "loop/DeferredWrites.h"
#include "loop/Http2Upstream.h"
#include "loop/TlsConfigSlot.h"
#include "net/Acceptor.h"
#include "net/Buffer.h"
#include "net/EventLoop.h"
#include "net/IntrusiveList.h"
#include "net/TimerList.h"
#include "routing/RouteTableSlot.h"

namespace portico {

class ClientConnection;
class ClientSession;
class Exchange;
class UpstreamChannel;
struct Route;

/// Limits and timeouts of the client side, as nginx names them.
struct ClientLimits {
  std::chrono::milliseconds headerTimeout{60000};     // the whole request head
  std::chrono::milliseconds bodyTimeout{60000};       // between two reads of a request body
  std::chrono::milliseconds sendTimeout{60000};       // between two writes to a slow reader
  std::chrono::milliseconds keepAliveTimeout{75000};  // idle between requests
  std::chrono::milliseconds lingerTimeout{5000};      // reading what a refused client still sends
  std::size_t maxHeaderBytes{32 * 1024};
  std::size_t maxTargetBytes{8 * 1024};
  std::size_t maxConnections{16384};             // this loop's share of proxy.max_connections
  std::chrono::milliseconds upstreamIdle{8000};  // an idle upstream connection is closed after
};

/// One event-loop thread of the data plane: it accepts clients from its own listening socket
/// (one of a SO_REUSEPORT group, so the kernel spreads clients evenly), and owns those connections,
/// its idle upstream connections, its timers and its buffers. Nothing it owns is touched by another
/// thread, so serving a request takes no lock; it reads the route table through the slot's
/// per-thread cache.
class ProxyLoop {
 public:
  /// `tlsListenFd`/`tls`: the HTTPS listener and its certificates (-1/null without one).
  ProxyLoop(std::size_t index, const ProxyContext& context, const RouteTableSlot& slot,
            const ClientLimits& limits, int listenFd, int tlsListenFd = -1,
            const TlsConfigSlot* tls = nullptr);
  ~ProxyLoop();
  ProxyLoop(const ProxyLoop&) = delete;
  ProxyLoop& operator=(const ProxyLoop&) = delete;

  /// The loop's thread body: returns after stop(), or once drained after beginDrain().
  void run();
  /// From any thread: stop accepting, close idle clients now and the others once their
  /// current response is complete; run() returns when none is left.
  /// `idleGrace` (a binary upgrade): idle keep-alive connections stay open that long, so a
  /// request already on its way is answered (with Connection: close) rather than met by a close.
  void beginDrain(std::chrono::milliseconds idleGrace = std::chrono::milliseconds(0));
  /// From any thread: end run() now.
  void stop();
  /// Any thread: the loop no longer watches the listening socket (after beginDrain()).
  bool acceptStopped() const { return acceptStopped_.load(std::memory_order_acquire); }
  /// From any thread: close the idle connections this loop keeps to targets that left the
  /// configuration.
  void closeIdleTo(std::vector<std::shared_ptr<TargetState>> targets);
  /// Client connections open on this loop (any thread; for metrics and tests).
  std::size_t clientCount() const { return clientCount_.load(std::memory_order_relaxed); }

  // For the loop's own connections.
  std::size_t index() const { return index_; }
  net::EventLoop& events() { return events_; }
  const ProxyContext& context() const { return context_; }
  const ClientLimits& limits() const { return limits_; }
  const std::shared_ptr<const RouteTable>& table() const { return slot_.current(); }
  bool draining() const { return draining_; }
  net::BufferPool& buffers() { return buffers_; }
  /// A string for building one head at a time (kept to avoid an allocation per request).
  std::string& scratch() { return scratch_; }
  /// This loop's balancer state for every route (rotations, by Route::slot).
  PickStates& picks() { return picks_; }
  /// This loop's HTTP/2 connections to targets (upstreamProtocol h2), by target.
  Http2Upstreams& http2Upstreams() { return http2Upstreams_; }
  /// Connections that write what this batch of events gave them once, at its end.
  DeferredWrites& deferredWrites() { return deferredWrites_; }

  net::TimerList& headerTimeouts() { return headerTimeouts_; }
  net::TimerList& bodyTimeouts() { return bodyTimeouts_; }
  net::TimerList& sendTimeouts() { return sendTimeouts_; }
  net::TimerList& keepAliveTimeouts() { return keepAliveTimeouts_; }
  net::TimerList& lingerTimeouts() { return lingerTimeouts_; }
  net::TimerList& connectTimeouts() { return connectTimeouts_; }
  net::TimerList& readTimeouts() { return readTimeouts_; }
  net::TimerList& upstreamIdleTimeouts() { return upstreamIdleTimeouts_; }
  /// Deadlines of differing lengths a request brings (grpc-timeout), armed with armAt().
  net::TimerList& requestDeadlines() { return requestDeadlines_; }
  /// The list that keeps a client's `timeout` (the one ClientPhase says runs), for HTTP/1.1
  /// connections and HTTP/2 streams alike; null for none.
  net::TimerList* clientTimers(ClientPhase::Timeout timeout);
  /// As above, with the send timeout of `route` (null: none) where it sets its own.
  net::TimerList* clientTimers(ClientPhase::Timeout timeout, const Route* route);
  /// A list whose timers all wait `duration`: the connect, read or send list when it has that
  /// duration, else one made for it on first use (a route's own timeout) and kept, so a route's
  /// timeouts stay lists and not a heap. Timers of any kind may share a list: the tag tells them
  /// apart.
  net::TimerList& timersFor(std::chrono::milliseconds duration);

  std::unique_ptr<http::HttpParser> takeParser();
  void giveParser(std::unique_ptr<http::HttpParser> parser);
  std::unique_ptr<Exchange> takeExchange();
  /// Released after the current batch of events (the caller may still be inside its methods).
  void recycle(std::unique_ptr<Exchange> exchange);
  /// Closes `channel` now (no event reaches its owner any more) and destroys it after the batch.
  void release(std::unique_ptr<UpstreamChannel> channel);
  /// `connection` closed itself: it leaves the loop's clients and is destroyed after the batch.
  void closed(ClientSession& connection);
  /// Takes over a client connection (a TLS handshake, or what it hands its connection to).
  void adopt(std::unique_ptr<ClientSession> connection);

 private:
  class Listener;
  void accepted(net::FileDescriptor fd, const sockaddr_storage& peer, bool tls);
  void endOfBatch();
  void updateAccepting();
  void drainClients();

  const std::size_t index_;
  const ProxyContext& context_;
  const RouteTableSlot& slot_;
  const ClientLimits limits_;
  const TlsConfigSlot* tls_;
  std::shared_ptr<const net::TlsServerConfig> tlsConfig_;  // this loop's copy
  std::uint64_t tlsVersion_{0};
  net::EventLoop events_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<Listener> tlsListener_;  // null without an HTTPS listener
  bool draining_{false};
  std::atomic<bool> acceptStopped_{false};
  std::int64_t drainDeadline_{0};
  std::int64_t idleCloseAt_{0};  // the end of beginDrain's idle grace (0: none pending)

  net::TimerList headerTimeouts_;
  net::TimerList bodyTimeouts_;
  net::TimerList sendTimeouts_;
  net::TimerList keepAliveTimeouts_;
  net::TimerList lingerTimeouts_;
  net::TimerList connectTimeouts_;
  net::TimerList readTimeouts_;
  net::TimerList upstreamIdleTimeouts_;
  net::TimerList requestDeadlines_{0};
  std::vector<std::unique_ptr<net::TimerList>> routeTimers_;  // timersFor()'s own lists

  net::BufferPool buffers_;
  std::string scratch_;
  PickStates picks_;
  std::vector<std::unique_ptr<http::HttpParser>> parsers_;
  std::vector<std::unique_ptr<Exchange>> exchanges_;
  Http2Upstreams http2Upstreams_;
  DeferredWrites deferredWrites_;

  net::IntrusiveList clients_;  // every open client connection (owned, see closed())
  std::atomic<std::size_t> clientCount_{0};
  std::vector<std::unique_ptr<Exchange>> finishedExchanges_;
};

}  // namespace portico
