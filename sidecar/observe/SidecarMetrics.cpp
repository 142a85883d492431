#include "observe/SidecarMetrics.h"

#include <array>
#include <map>
#include <utility>

#include "base/Log.h"

namespace portico {
namespace {

// Probe workers and admin threads (a few dozen) share these shards.
constexpr std::size_t kShards = 8;

}  // namespace

SidecarMetrics::SidecarMetrics(Store& store)
    : store_(store),
      registry_(kShards, metrics::ShardWriters::Many),
      checkDuration_(registry_
                         .histogram("portico_health_check_duration_seconds",
                                    "Time a health probe took (connect, or connect and response).",
                                    {}, metrics::Registry::latencyBuckets())
                         .with()),
      transitions_(registry_.counter("portico_health_transitions_total",
                                     "Health verdicts changed and stored, by the state entered.",
                                     {"route", "host", "target", "to"})),
      admin_(registry_.counter("portico_admin_requests_total",
                               "Admin API requests answered, by method, endpoint and status code.",
                               {"method", "endpoint", "code"})),
      writeDuration_(registry_
                         .histogram("portico_store_write_duration_seconds",
                                    "Time a store write transaction took, waiting for the lock "
                                    "included.",
                                    {}, metrics::Registry::latencyBuckets())
                         .with()),
      busy_(registry_
                .counter("portico_store_busy_total",
                         "Store writes that gave up on the lock after the busy timeout.")
                .with()) {
  registry_.addCollector([this](metrics::Exposition& out) { collectProbes(out); });
  registry_.addCollector([this](metrics::Exposition& out) { collectStore(out); });
  registry_.addCollector([this](metrics::Exposition& out) { collectProxies(out); });
  registry_.addCollector([this](metrics::Exposition& out) { process_.collect(out); });
}

void SidecarMetrics::probed(double seconds) {
  checkDuration_.observe(registry_.threadShard(), seconds);
}

void SidecarMetrics::countProbesFrom(const ProbeCountSource* source) {
  std::lock_guard<std::mutex> lock(sourceMutex_);
  probeCounts_ = source;
}

void SidecarMetrics::collectProbes(metrics::Exposition& out) const {
  // By labels, summed (a target removed and added again is one series), in a family's order.
  std::map<std::array<std::string, 3>, ProbeCount> series;
  {
    std::lock_guard<std::mutex> lock(sourceMutex_);
    if (probeCounts_) {
      probeCounts_->visitProbeCounts([&series](const std::string& route, const std::string& host,
                                               const std::string& target, const ProbeCount& count) {
        auto& sum = series[{route, host, target}];
        sum.success += count.success;
        sum.failure += count.failure;
      });
    }
  }
  constexpr const char* kName = "portico_health_checks_total";
  out.family(kName,
             "Health probes run, by route, host (left out for any-host routes), target and "
             "result (success, failure).",
             "counter");
  for (const auto& [labels, count] : series) {
    for (const auto& [result, n] : {std::pair<const char*, std::uint64_t>{"failure", count.failure},
                                    {"success", count.success}}) {
      if (n == 0) continue;  // a series exists from its first count
      out.sample(
          kName,
          {{"route", labels[0]}, {"host", labels[1]}, {"target", labels[2]}, {"result", result}},
          n);
    }
  }
}

void SidecarMetrics::transitioned(const std::string& route, const std::string& host,
                                  const std::string& target, bool healthy) {
  transitions_.with({route, host, target, healthy ? "healthy" : "unhealthy"})
      .add(registry_.threadShard());
}

void SidecarMetrics::adminRequest(const std::string& method, const std::string& endpoint,
                                  int status) {
  admin_.with({methodLabel(method), endpoint, std::to_string(status)}).add(registry_.threadShard());
}

void SidecarMetrics::written(double seconds) {
  writeDuration_.observe(registry_.threadShard(), seconds);
}

void SidecarMetrics::busy() {
  busy_.add(registry_.threadShard());
}

std::string SidecarMetrics::methodLabel(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (method == known) return method;
  return "other";
}

std::string SidecarMetrics::scrape() const {
  return registry_.scrape();
}

void SidecarMetrics::collectStore(metrics::Exposition& out) const {
  std::vector<RouteRecord> routes;
  std::int64_t revision = -1;
  try {
    revision = store_.revision();
    routes = store_.loadRoutes();
  } catch (const std::exception& e) {
    logWarn(std::string("metrics: cannot read the store: ") + e.what());
  }
  out.family("portico_target_healthy", "1 when the stored health verdict admits the target.",
             "gauge");
  for (const auto& r : routes)
    for (const auto& t : r.targets)
      out.sample("portico_target_healthy",
                 {{"route", r.prefix}, {"host", r.host}, {"target", t.url}},
                 std::uint64_t{t.healthy ? 1u : 0u});
  out.family("portico_store_revision", "The store's revision counter (-1: unreadable).", "gauge");
  out.sample("portico_store_revision", {}, revision);
}

void SidecarMetrics::collectProxies(metrics::Exposition& out) const {
  ProxyCensus census;
  try {
    census = ProxyCensus::of(store_.proxies(), proxyRules_);
  } catch (const std::exception& e) {
    logWarn(std::string("metrics: cannot read the proxies table: ") + e.what());
  }
  out.family("portico_proxies",
             "Proxies in the store's proxies table, by state (live, behind, stale).", "gauge");
  out.sample("portico_proxies", {{"state", "live"}}, static_cast<std::int64_t>(census.live));
  out.sample("portico_proxies", {{"state", "behind"}}, static_cast<std::int64_t>(census.behind));
  out.sample("portico_proxies", {{"state", "stale"}}, static_cast<std::int64_t>(census.stale));
  out.family("portico_proxy_lag_revisions",
             "The largest number of revisions a live or behind proxy lacks.", "gauge");
  out.sample("portico_proxy_lag_revisions", {}, census.lagRevisions);
  out.family("portico_proxy_lag_seconds",
             "The longest time a live or behind proxy has lacked the store's revision.", "gauge");
  out.sample("portico_proxy_lag_seconds", {}, census.lagSeconds);
}

}  // namespace portico
