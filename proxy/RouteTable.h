#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "Balancer.h"
#include "Model.h"
#include "TargetState.h"

namespace portico {

/// One route of a snapshot: its prefix, every stored target, and the balancer over the
/// healthy ones. Immutable once built (runtime state lives in TargetState/BalancerState).
struct Route {
  std::string prefix;  // normalised, ends with '/'
  BalancerKind balancer{BalancerKind::RoundRobin};
  std::vector<std::shared_ptr<TargetState>> targets;     // every stored target, in stored order
  std::vector<bool> healthy;                             // the store's verdict, parallel to targets
  std::vector<std::shared_ptr<TargetState>> candidates;  // the healthy ones: balancer indexes
  std::shared_ptr<BalancerState> balancerState;
  std::unique_ptr<Balancer> picker;                    // over `candidates`
  std::shared_ptr<ProxyMetrics::RouteHandle> metrics;  // null without metrics
};

/// An immutable snapshot of the store's routes, answering "which route serves this request"
/// by longest prefix. Built off the request path whenever the store's revision changes;
/// TargetState objects carry over by (prefix, canonical URL) and BalancerState by prefix, so
/// in-flight counts, cooldowns and connection pools survive reloads.
class RouteTable {
 public:
  /// The empty table: every request is unmatched.
  RouteTable() = default;
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  /// Builds a table from the store's routes, reusing state from `previous` (may be null).
  /// Target URLs that do not parse are skipped and described in `problems` (if given).
  /// `loops`: how many event loops keep per-loop state in each new TargetState. With `metrics`,
  /// new routes and targets get their counter handles (carried over like the rest).
  static std::shared_ptr<const RouteTable> build(const std::vector<RouteRecord>& records,
                                                 const RouteTable* previous, std::int64_t revision,
                                                 std::vector<std::string>* problems = nullptr,
                                                 std::size_t loops = 0,
                                                 ProxyMetrics* metrics = nullptr);

  /// The route with the longest prefix matching the request target (origin or absolute form),
  /// or null.
  const Route* match(std::string_view requestTarget) const;
  const Route* find(std::string_view prefix) const;

  const std::vector<Route>& routes() const { return routes_; }
  std::int64_t revision() const { return revision_; }

  /// The target states of this table that `next` does not carry over (removed targets).
  std::vector<std::shared_ptr<TargetState>> droppedBy(const RouteTable& next) const;

 private:
  std::vector<Route> routes_;
  std::unordered_map<std::string_view, const Route*> byKey_;  // prefix minus its trailing slash
  std::int64_t revision_{-1};
};

}  // namespace portico
