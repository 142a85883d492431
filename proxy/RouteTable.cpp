#include "RouteTable.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_set>

#include "Errors.h"
#include "RoutePath.h"
#include "StoreTime.h"

namespace portico {

SnapshotClock SnapshotClock::now() {
  using namespace std::chrono;
  return SnapshotClock{duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(),
                       duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count()};
}

namespace {

/// Slots for `records`: a prefix keeps the slot it had in `previous`; a new one takes the
/// lowest slot no kept route holds.
std::vector<std::size_t> assignSlots(const std::vector<RouteRecord>& records,
                                     const RouteTable* previous) {
  std::vector<std::size_t> slots(records.size(), 0);
  std::vector<bool> placed(records.size(), false);
  std::set<std::size_t> taken;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Route* before = previous ? previous->find(records[i].prefix) : nullptr;
    if (before && taken.insert(before->slot).second) {
      slots[i] = before->slot;
      placed[i] = true;
    }
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (placed[i]) continue;
    while (taken.count(next)) ++next;
    slots[i] = next;
    taken.insert(next);
  }
  return slots;
}

}  // namespace

std::shared_ptr<const RouteTable> RouteTable::build(const std::vector<RouteRecord>& records,
                                                    const RouteTable* previous,
                                                    std::int64_t revision,
                                                    std::vector<std::string>* problems,
                                                    std::size_t loops, ProxyMetrics* metrics,
                                                    SnapshotClock clock) {
  auto table = std::make_shared<RouteTable>();
  table->revision_ = revision;
  table->routes_.reserve(records.size());
  const auto slots = assignSlots(records, previous);
  for (std::size_t r = 0; r < records.size(); ++r) {
    const RouteRecord& record = records[r];
    Route route;
    route.prefix = record.prefix;
    route.balancer = record.balancer;
    route.slowStart = record.health.slowStart;
    route.slot = slots[r];
    const Route* before = previous ? previous->find(record.prefix) : nullptr;
    if (metrics)
      route.metrics = before && before->metrics ? before->metrics : metrics->route(record.prefix);

    std::unordered_map<std::string, std::size_t> earlier;  // canonical URL -> index in `before`
    if (before) {
      for (std::size_t i = 0; i < before->targets.size(); ++i)
        earlier.emplace(before->targets[i]->url.canonical, i);
    }
    std::unordered_set<std::string> seen;
    std::vector<Candidate> candidates;
    for (const auto& t : record.targets) {
      TargetUrl url;
      try {
        url = parseTargetUrl(t.url);
      } catch (const InvalidInput& e) {
        if (problems)
          problems->push_back("route " + record.prefix + ": skipping target '" + t.url +
                              "': " + e.what());
        continue;
      }
      if (!seen.insert(url.canonical).second) continue;
      std::shared_ptr<TargetState> state;
      const auto it = earlier.find(url.canonical);
      // A target whose name did not resolve gets a fresh state (and lookup) with each table.
      if (it != earlier.end() && (loops == 0 || !before->targets[it->second]->addresses.empty())) {
        state = before->targets[it->second];
        // The store has just brought the target back: its word beats an older passive cooldown.
        if (t.healthy && !before->healthy[it->second])
          state->avoidUntilMs.store(0, std::memory_order_relaxed);
      } else {
        state = std::make_shared<TargetState>(std::move(url), loops);
        if (loops > 0 && state->addresses.empty() && problems)
          problems->push_back("route " + record.prefix + ": target " + state->url.canonical +
                              ": " + state->resolveError + " (tried again with the next table)");
      }
      if (metrics && !state->metrics)
        state->metrics = metrics->target(record.prefix, state->url.canonical);
      route.targets.push_back(state);
      route.healthy.push_back(t.healthy);
      route.weights.push_back(t.weight);
      route.states.push_back(t.state);
      if (!t.healthy || t.state != ServingState::Active || t.weight <= 0) continue;
      Candidate candidate;
      candidate.target = state;
      candidate.weight = t.weight;
      if (route.slowStart.count() > 0) {
        // The ramp began at a wall-clock time; on the steady clock that is as long before
        // clock.steadyMs as it was before clock.systemMs.
        if (const auto since = storeTimeMs(t.servingSince))
          candidate.warmFromMs = clock.steadyMs - (clock.systemMs - *since);
      }
      route.candidates.push_back(std::move(state));
      candidates.push_back(std::move(candidate));
    }
    int weightScale = 0;
    for (const int w : route.weights) weightScale = std::max(weightScale, w);
    route.picker = makeBalancer(route.balancer, std::move(candidates), SlowStart(route.slowStart),
                                weightScale);
    table->routes_.push_back(std::move(route));
  }
  // Pointers into routes_ are taken only now that the vector no longer grows.
  for (const auto& r : table->routes_) table->byKey_.emplace(RoutePath::key(r.prefix), &r);
  return table;
}

const Route* RouteTable::find(std::string_view prefix) const {
  const auto it = byKey_.find(RoutePath::key(prefix));
  return it == byKey_.end() ? nullptr : it->second;
}

const Route* RouteTable::match(std::string_view requestTarget) const {
  if (byKey_.empty()) return nullptr;
  const std::string_view origin = RoutePath::originForm(requestTarget);
  if (origin.empty()) return nullptr;  // "*" or garbage
  const std::string_view path = origin.substr(0, origin.find('?'));
  // A path matches a route when it equals the route's key or continues it with '/': try the
  // path itself, then each of its prefixes ending just before a '/', longest first.
  auto it = byKey_.find(path);
  if (it != byKey_.end()) return it->second;
  for (std::size_t i = path.size(); i-- > 0;) {
    if (path[i] != '/') continue;
    it = byKey_.find(path.substr(0, i));
    if (it != byKey_.end()) return it->second;
  }
  return nullptr;
}

std::vector<std::shared_ptr<TargetState>> RouteTable::droppedBy(const RouteTable& next) const {
  std::unordered_set<const TargetState*> kept;
  for (const auto& r : next.routes_) {
    for (const auto& t : r.targets) kept.insert(t.get());
  }
  std::vector<std::shared_ptr<TargetState>> dropped;
  for (const auto& r : routes_) {
    for (const auto& t : r.targets) {
      if (!kept.count(t.get())) dropped.push_back(t);
    }
  }
  return dropped;
}

}  // namespace portico
