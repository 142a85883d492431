#include "routing/TableGauges.h"

#include <chrono>
#include <map>

#include "metrics/Exposition.h"

namespace portico {
namespace {

/// One gauge with a sample per route and target.
struct TargetGauge {
  const char* name;
  const char* help;
  std::uint64_t (*value)(const Route& route, std::size_t target, std::int64_t nowMs);
};

const TargetGauge kTargetGauges[] = {
    {"portico_target_healthy",
     "1 when the store's health verdict admits the target, as this proxy last read it.",
     [](const Route& r, std::size_t i, std::int64_t) {
       return std::uint64_t{r.standing[i].healthy};
     }},
    {"portico_target_in_rotation",
     "1 when the target may get new requests (healthy, active, weight above 0).",
     [](const Route& r, std::size_t i, std::int64_t) {
       return std::uint64_t{r.standing[i].inRotation()};
     }},
    {"portico_target_weight", "The target's stored weight (0-1000).",
     [](const Route& r, std::size_t i, std::int64_t) {
       return static_cast<std::uint64_t>(r.standing[i].weight);
     }},
    {"portico_target_in_cooldown",
     "1 while this proxy passes the target over after a refused connection.",
     [](const Route& r, std::size_t i, std::int64_t nowMs) {
       return std::uint64_t{r.targets[i]->avoidUntilMs.load(std::memory_order_relaxed) > nowMs};
     }},
    {"portico_target_ejected",
     "1 while this proxy's outlier detection keeps the target out of rotation.",
     [](const Route& r, std::size_t i, std::int64_t nowMs) {
       return std::uint64_t{r.targets[i]->ejectedUntilMs.load(std::memory_order_relaxed) > nowMs};
     }},
};

void collectConnections(const RouteTable* table, metrics::Exposition& out) {
  // A URL on several routes has a state (and a pool) per route; the connections are summed.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> byUrl;  // busy, idle
  if (table) {
    for (const auto& r : table->routes())
      for (const auto& t : r->targets) {
        auto& counts = byUrl[t->url.canonical];
        counts.first += t->inFlight.load(std::memory_order_relaxed);
        // The loops' idle lists, and the pool of the module's blocking handler.
        counts.second += t->idleConnections.load(std::memory_order_relaxed) +
                         static_cast<std::int64_t>((t->pool ? t->pool->idleCount() : 0));
      }
  }
  out.family("portico_upstream_connections",
             "Connections to a target: busy (carrying a request) or idle (kept alive in the pool).",
             "gauge");
  for (const auto& [url, counts] : byUrl) {
    out.sample("portico_upstream_connections", {{"target", url}, {"state", "busy"}}, counts.first);
    out.sample("portico_upstream_connections", {{"target", url}, {"state", "idle"}}, counts.second);
  }
}

void collectTargets(const RouteTable* table, metrics::Exposition& out) {
  const auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  for (const auto& gauge : kTargetGauges) {
    out.family(gauge.name, gauge.help, "gauge");
    if (!table) continue;
    for (const auto& r : table->routes())
      for (std::size_t i = 0; i < r->targets.size(); ++i)
        out.sample(
            gauge.name,
            {{"route", r->prefix}, {"host", r->host}, {"target", r->targets[i]->url.canonical}},
            gauge.value(*r, i, nowMs));
  }
  collectConnections(table, out);
}

}  // namespace

ProxyMetrics::TableView tableView(
    const std::function<std::shared_ptr<const RouteTable>()>& current) {
  ProxyMetrics::TableView view;
  view.ready = [current] {
    const auto table = current();
    return table && table->revision() >= 0;
  };
  view.collect = [current](metrics::Exposition& out) { collectTargets(current().get(), out); };
  return view;
}

}  // namespace portico
