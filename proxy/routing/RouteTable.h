#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "balance/Balancer.h"
#include "balance/RouteState.h"
#include "balance/TargetState.h"
#include "model/Model.h"
#include "routing/HostRouter.h"
#include "routing/RequestRules.h"
#include "routing/RouteSettings.h"

namespace portico {

/// What the store says of one target of a route: one vector of these rather than three
/// parallel ones (two allocations fewer per route of a large table).
struct TargetStanding {
  int weight{kDefaultWeight};
  ServingState state{ServingState::Active};
  bool healthy{true};  // the store's verdict
  bool inRotation() const { return healthy && state == ServingState::Active && weight > 0; }
};

/// One route of a snapshot: its prefix, every stored target with its verdict, weight and
/// state, and the balancer over those that may get new requests. Immutable once built (runtime
/// state lives in TargetState; each event loop's pick state in its PickStates, at `slot`).
struct Route {
  std::string host;    // "" for any host
  std::string prefix;  // normalised, ends with '/'
  BalancerKind balancer{BalancerKind::RoundRobin};
  std::shared_ptr<const RouteSettings> settings;  // never null in a built table
  std::chrono::milliseconds slowStart{0};
  /// Where each loop keeps this route's PickState: stable for a (host, prefix) across
  /// snapshots, and unique within one.
  std::size_t slot{0};
  std::vector<std::shared_ptr<TargetState>> targets;  // every stored target, in stored order
  std::vector<TargetStanding> standing;               // parallel to targets
  /// Over the targets in rotation (healthy, active, weight > 0), with their weights and ramps;
  /// never null in a built table.
  std::unique_ptr<const Balancer> picker;
  std::shared_ptr<ProxyMetrics::RouteHandle> metrics;  // null without metrics

  RouteKey key() const { return {host, prefix}; }
  const RoutePolicies& policies() const { return settings->policies; }
  const RequestRules& rules() const { return settings->rules; }  // policies().request, ready
  /// The targets in rotation, in stored order: what the balancer's indexes index.
  const std::vector<Candidate>& candidates() const { return picker->candidates(); }
  /// In-flight counts and rate-limit buckets, carried over by prefix like the targets' states.
  std::shared_ptr<RouteState> state;
};

/// The two clocks at the moment a table is built: slow-start ramps, stored as wall-clock times,
/// become steady-clock times (the clock requests pick with) once, here.
struct SnapshotClock {
  std::int64_t systemMs{};  // milliseconds since the Unix epoch
  std::int64_t steadyMs{};  // std::chrono::steady_clock, in milliseconds
  static SnapshotClock now();
};

/// An immutable snapshot of the store's routes, answering "which route serves this request"
/// by host, then longest prefix (HostRouter). Built off the request path whenever the store's
/// revision changes: whole (build) at start and after a gap in the change history, else patched
/// (patch) from the previous table with only the routes a change touched rebuilt, the others
/// shared. TargetState objects carry over by (route key, canonical URL) and route slots by route
/// key, so in-flight counts, cooldowns, connection pools and rotations survive reloads.
class RouteTable {
 public:
  /// The empty table: every request is unmatched.
  RouteTable() = default;
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  /// Builds a table from the store's routes, reusing state from `previous` (may be null).
  /// Target URLs that do not parse are skipped and described in `problems` (if given).
  /// `loops`: how many event loops keep per-loop state in each new TargetState. With `metrics`,
  /// new routes and targets get their counter handles (carried over like the rest). `clock`:
  /// the moment of building, when stored slow-start times become steady-clock ones.
  static std::shared_ptr<const RouteTable> build(const std::vector<RouteRecord>& records,
                                                 const RouteTable* previous, std::int64_t revision,
                                                 std::vector<std::string>* problems = nullptr,
                                                 std::size_t loops = 0,
                                                 ProxyMetrics* metrics = nullptr,
                                                 SnapshotClock clock = SnapshotClock::now());

  /// `previous` with the routes of `changed` rebuilt from their records (or added) and the
  /// routes of `removed` dropped; every other route is shared with `previous`, not copied.
  /// Gives what build() would give from the whole store (the property the unit tests check),
  /// at the cost of the routes touched plus a copy of the route pointers. The target states
  /// the touched routes no longer carry go to `dropped` (if given).
  static std::shared_ptr<const RouteTable> patch(
      const RouteTable& previous, const std::vector<RouteRecord>& changed,
      const std::vector<RouteKey>& removed, std::int64_t revision,
      std::vector<std::string>* problems = nullptr, std::size_t loops = 0,
      ProxyMetrics* metrics = nullptr, SnapshotClock clock = SnapshotClock::now(),
      std::vector<std::shared_ptr<TargetState>>* dropped = nullptr);

  /// The route serving a request for `host` (as RequestHost leaves it; "" for none) and the
  /// request target (origin or absolute form), or null: see HostRouter.
  const Route* match(std::string_view host, std::string_view requestTarget) const;
  /// A request without a host: the any-host route with the longest matching prefix, or null.
  const Route* match(std::string_view requestTarget) const { return match({}, requestTarget); }
  /// The route of exactly `host` ("" any) and `prefix`, or null.
  const Route* find(std::string_view host, std::string_view prefix) const;
  /// The any-host route of `prefix`, or null.
  const Route* find(std::string_view prefix) const { return find({}, prefix); }

  /// Whether any route names a host.
  bool hasHostRoutes() const { return router_ && router_->hasHosts(); }

  /// In (prefix, host) order.
  const std::vector<std::shared_ptr<const Route>>& routes() const { return routes_; }
  std::int64_t revision() const { return revision_; }
  std::size_t targetCount() const { return targetCount_; }
  std::size_t inRotationCount() const { return inRotationCount_; }

  /// The target states of this table that `next` does not carry over (removed targets).
  std::vector<std::shared_ptr<TargetState>> droppedBy(const RouteTable& next) const;

 private:
  /// router_ (`sharing`'s when given: the same routes at the same positions) and the counts.
  void index(const RouteTable* sharing = nullptr);
  /// Adds `route`'s targets to the counts, or takes them off.
  void count(const Route& route, bool added);
  /// Slots for the rebuilt routes whose previous versions are `befores` (null: new), taken
  /// from freeSlots_ or past slotEnd_.
  std::vector<std::size_t> takeSlots(const std::vector<const Route*>& befores);

  std::vector<std::shared_ptr<const Route>> routes_;
  std::shared_ptr<const HostRouter> router_;  // null in the empty table
  std::set<std::size_t> freeSlots_;           // below slotEnd_ and held by no route
  std::size_t slotEnd_{0};
  std::size_t targetCount_{0};
  std::size_t inRotationCount_{0};
  std::int64_t revision_{-1};
};

}  // namespace portico
