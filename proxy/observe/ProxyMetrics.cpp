#include "observe/ProxyMetrics.h"

#include <sys/time.h>

#include <cassert>
#include <chrono>
#include <string>
#include <vector>

namespace portico {
namespace {

double nowSeconds() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

/// A metric as exposed: its name, help text and label names.
struct MetricSpec {
  const char* name;
  const char* help;
  std::vector<std::string> labels;
};

const MetricSpec kRequestsTotal{
    "portico_requests_total",
    "Requests answered, by route prefix, host (left out for any-host routes), target URL and "
    "status code sent (499: the client went away first).",
    {"route", "host", "target", "code"}};
const MetricSpec kRequestDuration{"portico_request_duration_seconds",
                                  "Time from routing a request to its last byte sent, by route.",
                                  {"route", "host"}};
const MetricSpec kConnectFailures{
    "portico_upstream_connect_failures_total",
    "Connections to a target refused or not accepted within proxy.connect_timeout.",
    {"route", "host", "target"}};
const MetricSpec kUpstreamTimeouts{
    "portico_upstream_timeouts_total",
    "Requests a target did not answer within proxy.read_timeout (504).",
    {"route", "host", "target"}};
const MetricSpec kUpstreamRetries{
    "portico_upstream_retries_total",
    "Requests sent again, by why: to another target after a refused connect or under the "
    "route's retries policy, or on a fresh connection after a stale pooled one.",
    {"route", "host", "reason"}};
const MetricSpec kOverflows{"portico_overflow_total",
                            "Requests answered 503 because the route (maxRequests) or every "
                            "target in rotation (maxConnections) was at its limit.",
                            {"route", "host"}};
const MetricSpec kOutlierEjections{"portico_outlier_ejections_total",
                                   "Times outlier detection ejected the target from rotation.",
                                   {"route", "host", "target"}};
const MetricSpec kTlsHandshakes{
    "portico_upstream_tls_handshakes_total",
    "TLS handshakes with https targets, by whether an earlier session was resumed.",
    {"resumed"}};
const MetricSpec kClientConnections{
    "portico_client_connections", "Client connections open on the data-plane listener.", {}};
const MetricSpec kStreamsRefused{
    "portico_http2_streams_refused_total",
    "HTTP/2 streams never processed, so neither counted as requests nor logged: refused over "
    "the concurrent stream limit, or reset by the client before they started.",
    {"reason"}};
const MetricSpec kTableRevision{"portico_route_table_revision",
                                "Store revision of the route table in use (-1: none loaded yet).",
                                {}};
const MetricSpec kTableReloads{
    "portico_route_table_reloads_total", "Route tables read from the store and published.", {}};
const MetricSpec kLastReload{"portico_route_table_last_reload_timestamp_seconds",
                             "Unix time the last route table was published (0: never).",
                             {}};
const MetricSpec kStoreReadErrors{"portico_store_read_errors_total",
                                  "Failed reads of the store (the last route table keeps serving).",
                                  {}};

metrics::CounterFamily& counterFamily(metrics::Registry& registry, const MetricSpec& spec) {
  return registry.counter(spec.name, spec.help, spec.labels);
}

}  // namespace

void ProxyStatusCounters::count(metrics::Shard& shard, int status) {
  const int code = status >= 100 && status < kCodes ? status : 0;
  for (std::size_t i = 0; i < kSlots; ++i) {
    const int held = codes_[i].load(std::memory_order_acquire);
    if (held == code + 1) return counters_[i].add(shard);
    if (held == 0) break;  // slots fill in order: the code has none yet
  }
  std::lock_guard<std::mutex> lock(creating_);
  for (std::size_t i = 0; i < kSlots; ++i) {
    const int held = codes_[i].load(std::memory_order_relaxed);
    if (held == code + 1) return counters_[i].add(shard);
    if (held != 0) continue;
    counters_[i] = family_.with({route_, host_, target_, std::to_string(code)});
    codes_[i].store(code + 1, std::memory_order_release);
    return counters_[i].add(shard);
  }
  auto it = more_.find(code);
  if (it == more_.end())
    it = more_.emplace(code, family_.with({route_, host_, target_, std::to_string(code)})).first;
  it->second.add(shard);
}

/// What a route counts, made at its first request (RouteHandle::series).
struct ProxyMetrics::RouteHandle::Series {
  Series(ProxyMetrics& m, const RouteHandle& h)
      : withoutTarget(m.requests_, h.prefix_, h.host_, kNone) {}
  LazySeries<metrics::Histogram> duration;
  std::array<std::atomic<bool>, kRetryReasons> made{};
  std::array<metrics::Counter, kRetryReasons> retries;
  LazySeries<metrics::Counter> overflows;  // none for the unmatched handle
  ProxyStatusCounters withoutTarget;
};

ProxyMetrics::RouteHandle::RouteHandle(ProxyMetrics& m, const std::string& prefix,
                                       const std::string& host)
    : metrics_(m), unmatched_(prefix == kNone), prefix_(prefix), host_(host) {}

ProxyMetrics::RouteHandle::~RouteHandle() = default;

ProxyMetrics::RouteHandle::Series& ProxyMetrics::RouteHandle::series() {
  return series_.get(metrics_.creating_,
                     [this] { return std::make_unique<Series>(metrics_, *this); });
}

metrics::Counter& ProxyMetrics::RouteHandle::retryCounter(std::size_t reason) {
  static const char* const kReasons[kRetryReasons] = {
      "connect-failure", "reset", "timeout", "502", "503", "504", "stale-connection"};
  Series& s = series();
  if (unmatched_ || s.made[reason].load(std::memory_order_acquire)) return s.retries[reason];
  std::lock_guard<std::mutex> lock(metrics_.creating_);
  if (!s.made[reason].load(std::memory_order_relaxed)) {
    s.retries[reason] = metrics_.retries_.with({prefix_, host_, kReasons[reason]});
    s.made[reason].store(true, std::memory_order_release);
  }
  return s.retries[reason];
}

/// What a target counts, made at its first request or failure (TargetHandle::series).
struct ProxyMetrics::TargetHandle::Series {
  Series(ProxyMetrics& m, const TargetHandle& h)
      : requests(m.requests_, h.route_->prefix_, h.route_->host_, h.url_) {}
  LazySeries<metrics::Counter> connectFailures;
  LazySeries<metrics::Counter> timeouts;
  LazySeries<metrics::Counter> ejections;
  ProxyStatusCounters requests;
};

ProxyMetrics::TargetHandle::TargetHandle(ProxyMetrics& m, std::shared_ptr<RouteHandle> route,
                                         const std::string& url)
    : metrics_(m), route_(std::move(route)), url_(url) {
  assert(route_);
}

ProxyMetrics::TargetHandle::~TargetHandle() = default;

ProxyMetrics::TargetHandle::Series& ProxyMetrics::TargetHandle::series() {
  return series_.get(metrics_.creating_,
                     [this] { return std::make_unique<Series>(metrics_, *this); });
}

const metrics::Counter& ProxyMetrics::TargetHandle::counter(
    LazySeries<metrics::Counter> Series::*lazy, metrics::CounterFamily& family) {
  return (series().*lazy).get(metrics_.creating_, [&] {
    return family.with({route_->prefix_, route_->host_, url_});
  });
}

// Threads without a loop of their own share this many shards: many for a POCO server's threads
// running the module; one when event loops serve every request (the rest, such as the reloader,
// count rarely). Every series takes its cells in every shard: with 25,000 routes each shard
// costs megabytes.
constexpr std::size_t kSharedShards = 16;
constexpr std::size_t kSharedShardsBesideLoops = 1;

ProxyMetrics::ProxyMetrics(std::size_t loops)
    : registry_(loops, loops > 0 ? kSharedShardsBesideLoops : kSharedShards),
      requests_(counterFamily(registry_, kRequestsTotal)),
      duration_(registry_.histogram(kRequestDuration.name, kRequestDuration.help,
                                    kRequestDuration.labels, metrics::Registry::latencyBuckets())),
      connectFailures_(counterFamily(registry_, kConnectFailures)),
      timeouts_(counterFamily(registry_, kUpstreamTimeouts)),
      retries_(counterFamily(registry_, kUpstreamRetries)),
      overflows_(counterFamily(registry_, kOverflows)),
      ejections_(counterFamily(registry_, kOutlierEjections)),
      tlsHandshakes_(counterFamily(registry_, kTlsHandshakes)),
      tlsFull_(tlsHandshakes_.with({"false"})),
      tlsResumed_(tlsHandshakes_.with({"true"})),
      clientConnections_(registry_.gauge(kClientConnections.name, kClientConnections.help).with()),
      streamsRefused_(counterFamily(registry_, kStreamsRefused)),
      refusedForConcurrency_(streamsRefused_.with({"concurrency"})),
      resetBeforeStart_(streamsRefused_.with({"reset_before_start"})),
      revision_(registry_.gauge(kTableRevision.name, kTableRevision.help).with()),
      reloads_(counterFamily(registry_, kTableReloads).with()),
      lastReload_(registry_.gauge(kLastReload.name, kLastReload.help).with()),
      storeReadErrors_(counterFamily(registry_, kStoreReadErrors).with()) {
  revision_.set(-1);
  unmatched_ = std::make_shared<RouteHandle>(*this, kNone);
  registry_.addCollector([this](metrics::Exposition& out) {
    if (table_.collect) table_.collect(out);
  });
  registry_.addCollector([this](metrics::Exposition& out) { process_.collect(out); });
}

ProxyMetrics::~ProxyMetrics() = default;

std::shared_ptr<ProxyMetrics::RouteHandle> ProxyMetrics::route(const std::string& prefix,
                                                               const std::string& host) {
  return std::make_shared<RouteHandle>(*this, prefix, host);
}

std::unique_ptr<ProxyMetrics::TargetHandle> ProxyMetrics::target(std::shared_ptr<RouteHandle> route,
                                                                 const std::string& url) {
  return std::make_unique<TargetHandle>(*this, std::move(route), url);
}

void ProxyMetrics::requestDone(metrics::Shard& shard, RouteHandle* route, TargetHandle* target,
                               int status, double seconds) {
  if (!route) route = unmatched_.get();
  RouteHandle::Series& series = route->series();
  if (target) {
    target->series().requests.count(shard, status);
  } else {
    series.withoutTarget.count(shard, status);
  }
  series.duration.get(creating_,
                      [&] {
                        return duration_.with({route->prefix_, route->host_});
                      })
      .observe(shard, seconds);
}

void ProxyMetrics::connectFailed(metrics::Shard& shard, TargetHandle& target) {
  target.counter(&TargetHandle::Series::connectFailures, connectFailures_).add(shard);
}

void ProxyMetrics::upstreamTimedOut(metrics::Shard& shard, TargetHandle& target) {
  target.counter(&TargetHandle::Series::timeouts, timeouts_).add(shard);
}

void ProxyMetrics::retried(metrics::Shard& shard, RouteHandle& route, std::size_t reason) {
  route.retryCounter(reason < kRetryReasons ? reason : kStaleConnection).add(shard);
}

void ProxyMetrics::overflowed(metrics::Shard& shard, RouteHandle& route) {
  // Unmatched requests are never limited: no series for them.
  if (route.unmatched_) return;
  route.series()
      .overflows.get(creating_,
                     [&] {
                       return overflows_.with({route.prefix_, route.host_});
                     })
      .add(shard);
}

void ProxyMetrics::ejected(metrics::Shard& shard, TargetHandle& target) {
  target.counter(&TargetHandle::Series::ejections, ejections_).add(shard);
}

void ProxyMetrics::upstreamTlsHandshake(metrics::Shard& shard, bool resumed) {
  (resumed ? tlsResumed_ : tlsFull_).add(shard);
}

void ProxyMetrics::clientConnectionOpened(metrics::Shard& shard) {
  clientConnections_.add(shard, 1);
}

void ProxyMetrics::clientConnectionClosed(metrics::Shard& shard) {
  clientConnections_.add(shard, -1);
}

void ProxyMetrics::http2StreamRefused(metrics::Shard& shard, StreamRefusal reason) {
  (reason == StreamRefusal::Concurrency ? refusedForConcurrency_ : resetBeforeStart_).add(shard);
}

void ProxyMetrics::tableLoaded(std::int64_t revision) {
  revision_.set(static_cast<double>(revision));
  reloads_.add(registry_.shard(0));
  lastReload_.set(nowSeconds());
}

void ProxyMetrics::storeReadFailed() {
  storeReadErrors_.add(registry_.threadShard());
}

void ProxyMetrics::watch(TableView view) {
  table_ = std::move(view);
}

bool ProxyMetrics::ready() const {
  return table_.ready && table_.ready();
}

std::string ProxyMetrics::scrape() const {
  return registry_.scrape();
}

}  // namespace portico
