#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "metrics/ProcessMetrics.h"
#include "metrics/Registry.h"
#include "observe/LazyObject.h"
#include "observe/LazySeries.h"

namespace portico {

/// The proxy's metrics, named in one place, behind a narrow interface of events.
///
/// The data plane counts on its own shard through handles resolved once per route and per target
/// and kept in the route table's runtime state (Route::metrics, TargetState::metrics): an event
/// is a few adds, no lock and no allocation. Each event loop owns a shard (`bindLoop(i)` on the
/// loop's thread makes `threadShard()` return it: plain adds); other threads (the module's
/// blocking handler inside someone's POCO server, the reloader) share a few shards (atomic
/// adds). A scrape sums them. The control plane (reloader, status listener) sets gauges and
/// scrapes.
class ProxyMetrics {
 public:
  /// The label value of a request that matched no route, or reached no target.
  static constexpr const char* kNone = "none";

  /// Counters of one route: its duration histogram, its retries, and requests answered
  /// without a target (503 no target in rotation, refused framing).
  class RouteHandle;
  /// Counters of one target of one route (labels route, target).
  class TargetHandle;

  /// `loops`: event loops, one shard each (0 when only the module's blocking handler serves).
  explicit ProxyMetrics(std::size_t loops);
  ~ProxyMetrics();
  ProxyMetrics(const ProxyMetrics&) = delete;
  ProxyMetrics& operator=(const ProxyMetrics&) = delete;

  /// Event loop `loop`'s own shard.
  metrics::Shard& shard(std::size_t loop) { return registry_.shard(loop); }
  /// On an event loop's thread, once before it counts: threadShard() is then shard(loop).
  void bindLoop(std::size_t loop) { registry_.bindThisThread(loop); }
  /// The calling thread's shard: its loop's, else a shared one.
  metrics::Shard& threadShard() { return registry_.threadShard(); }

  /// Control plane (route table build): the same labels always give handles to the same series.
  /// `host`: the route's ("" any host: the `host` label is then left out).
  std::shared_ptr<RouteHandle> route(const std::string& prefix, const std::string& host = "");
  /// A target of `route` (a handle from route()). `url` is kept by reference, not copied: the
  /// caller's copy must outlive the handle (the route table keeps both in the TargetState).
  std::unique_ptr<TargetHandle> target(std::shared_ptr<RouteHandle> route, const std::string& url);

  // --- data-plane events -------------------------------------------------------------------
  /// A request ended with `status` sent (499: the client left first) after `seconds`. `route`
  /// null: no route matched; `target` null: no target answered it (503, refused framing).
  void requestDone(metrics::Shard& shard, RouteHandle* route, TargetHandle* target, int status,
                   double seconds);
  /// A connection to the target was refused or timed out before anything was sent.
  void connectFailed(metrics::Shard& shard, TargetHandle& target);
  /// The target accepted the request but did not answer within proxy.read_timeout (504).
  void upstreamTimedOut(metrics::Shard& shard, TargetHandle& target);
  /// Why a request was sent again (label `reason` of portico_upstream_retries_total): the
  /// route policy's reasons, in RetryReason's bit order (connect-failure, reset, timeout, 502,
  /// 503, 504), then a stale pooled connection replaced by a fresh one.
  static constexpr std::size_t kRetryReasons = 7;
  static constexpr std::size_t kStaleConnection = 6;
  /// The request was sent again for `reason` (< kRetryReasons): to another target, or on a
  /// fresh connection after a pooled one turned out closed.
  void retried(metrics::Shard& shard, RouteHandle& route, std::size_t reason);
  /// The route or every target in rotation was at its limit of requests in flight (503).
  void overflowed(metrics::Shard& shard, RouteHandle& route);
  /// Outlier detection ejected the target.
  void ejected(metrics::Shard& shard, TargetHandle& target);
  /// A TLS handshake with an https target succeeded, resuming an earlier session or not.
  void upstreamTlsHandshake(metrics::Shard& shard, bool resumed);
  /// A client connection opened or closed (may be called on different shards).
  void clientConnectionOpened(metrics::Shard& shard);
  void clientConnectionClosed(metrics::Shard& shard);
  /// Why an HTTP/2 stream ended without the proxy ever processing it.
  enum class StreamRefusal { Concurrency, ResetBeforeStart };
  /// An HTTP/2 stream was refused (over MAX_CONCURRENT_STREAMS) or reset by the client before
  /// the proxy started it: no request was counted and no access-log line written for it.
  void http2StreamRefused(metrics::Shard& shard, StreamRefusal reason);

  // --- control-plane events ----------------------------------------------------------------
  /// A new route table from the store at `revision` was published.
  void tableLoaded(std::int64_t revision);
  /// Reading the store failed (it keeps serving the last table).
  void storeReadFailed();
  /// What the scrape reads of the current route table: whether one has been read, and the
  /// per-target gauges (health, cooldown, connections). routing/TableGauges makes one from a
  /// table, so the counters need not know how routes are held.
  struct TableView {
    std::function<bool()> ready;
    std::function<void(metrics::Exposition&)> collect;
  };
  void watch(TableView view);

  /// True once a route table has been read from the store (/readyz).
  bool ready() const;
  /// The text exposition of every metric (/metrics).
  std::string scrape() const;

 private:
  metrics::Registry registry_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& duration_;
  metrics::CounterFamily& connectFailures_;
  metrics::CounterFamily& timeouts_;
  metrics::CounterFamily& retries_;
  metrics::CounterFamily& overflows_;
  metrics::CounterFamily& ejections_;
  metrics::CounterFamily& tlsHandshakes_;
  metrics::Counter tlsFull_;
  metrics::Counter tlsResumed_;
  metrics::Gauge clientConnections_;
  metrics::CounterFamily& streamsRefused_;
  metrics::Counter refusedForConcurrency_;
  metrics::Counter resetBeforeStart_;
  metrics::Gauge revision_;
  metrics::Counter reloads_;
  metrics::Gauge lastReload_;
  metrics::Counter storeReadErrors_;
  metrics::ProcessMetrics process_;
  std::shared_ptr<RouteHandle> unmatched_;
  TableView table_;
  std::mutex creating_;  // makes the handles' series blocks (once each)
};

/// The requests_total series of one (route, target) by status code, created the first time a
/// code is seen (the only lock, once per code), then a plain add. A target sees a handful of
/// codes: the first kSlots live in a small table read without a lock (a few hundred bytes per
/// target, where an array over every code took 3 KB); codes past those take the lock.
class ProxyStatusCounters {
 public:
  ProxyStatusCounters(metrics::CounterFamily& family, std::string route, std::string host,
                      std::string target)
      : family_(family),
        route_(std::move(route)),
        host_(std::move(host)),
        target_(std::move(target)) {}
  void count(metrics::Shard& shard, int status);
  const std::string& route() const { return route_; }
  const std::string& host() const { return host_; }
  const std::string& target() const { return target_; }

 private:
  static constexpr int kCodes = 600;
  static constexpr std::size_t kSlots = 12;
  metrics::CounterFamily& family_;
  const std::string route_;
  const std::string host_;
  const std::string target_;
  std::mutex creating_;
  // Slot i holds code codes_[i] (0: free), its counter written before the code is published.
  std::array<metrics::Counter, kSlots> counters_{};
  std::array<std::atomic<int>, kSlots> codes_{};
  std::map<int, metrics::Counter> more_;  // under creating_
};

/// A route's series live in a block made at its first request (the handle itself holds only
/// its labels): at 25,000 routes most never serve one, and issue 22 allows 1 KB per target.
class ProxyMetrics::RouteHandle {
 public:
  RouteHandle(ProxyMetrics& m, const std::string& prefix, const std::string& host = "");
  ~RouteHandle();
  RouteHandle(const RouteHandle&) = delete;
  RouteHandle& operator=(const RouteHandle&) = delete;

 private:
  friend class ProxyMetrics;
  struct Series;
  Series& series();
  /// The series of `reason`: the policy's reasons are made the first time one is counted (most
  /// routes have no retries policy).
  metrics::Counter& retryCounter(std::size_t reason);

  ProxyMetrics& metrics_;
  const bool unmatched_;  // the handle of requests no route matched (no retry/overflow series)
  const std::string prefix_;
  const std::string host_;
  LazyObject<Series> series_;
};

/// Like RouteHandle, a target's series are made at its first request.
class ProxyMetrics::TargetHandle {
 public:
  TargetHandle(ProxyMetrics& m, std::shared_ptr<RouteHandle> route, const std::string& url);
  ~TargetHandle();
  TargetHandle(const TargetHandle&) = delete;
  TargetHandle& operator=(const TargetHandle&) = delete;

 private:
  friend class ProxyMetrics;
  struct Series;
  Series& series();
  /// `lazy` of `family` for this target, made at its first count.
  const metrics::Counter& counter(LazySeries<metrics::Counter> Series::*lazy,
                                  metrics::CounterFamily& family);

  ProxyMetrics& metrics_;
  const std::shared_ptr<RouteHandle> route_;  // its labels route and host
  const std::string& url_;                    // see ProxyMetrics::target
  LazyObject<Series> series_;
};

}  // namespace portico
