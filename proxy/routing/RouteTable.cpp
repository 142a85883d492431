#include "routing/RouteTable.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <set>
#include <unordered_set>

#include "base/Errors.h"
#include "routing/RoutePath.h"
#include "store/StoreTime.h"

namespace portico {

SnapshotClock SnapshotClock::now() {
  using namespace std::chrono;
  return SnapshotClock{duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(),
                       duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count()};
}

namespace {

/// Slots for `records`: a route keeps the slot it had in `previous`; a new one takes the
/// lowest slot no kept route holds.
std::vector<std::size_t> assignSlots(const std::vector<RouteRecord>& records,
                                     const RouteTable* previous) {
  std::vector<std::size_t> slots(records.size(), 0);
  std::vector<bool> placed(records.size(), false);
  std::set<std::size_t> taken;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Route* before = previous ? previous->find(records[i].host, records[i].prefix) : nullptr;
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

/// What every route of one table is built with.
struct Building {
  std::vector<std::string>* problems;
  std::size_t loops;
  ProxyMetrics* metrics;
  SnapshotClock clock;

  void problem(std::string line) const {
    if (problems) problems->push_back(std::move(line));
  }
};

/// The run-time state of target `url` (entry `t` of route `record`): `before`'s, at index
/// `earlier` (or npos), when it can be kept, else a fresh one.
std::shared_ptr<TargetState> targetState(TargetUrl url, const TargetRecord& t,
                                         const RouteRecord& record, const Route* before,
                                         std::size_t earlier, const Building& b) {
  std::shared_ptr<TargetState> state;
  // A target whose name did not resolve gets a fresh state (and lookup) with each table.
  if (earlier != std::string::npos &&
      (b.loops == 0 || !before->targets[earlier]->addresses.empty())) {
    state = before->targets[earlier];
    // The store has just brought the target back: its word beats an older passive cooldown.
    if (t.healthy && !before->standing[earlier].healthy)
      state->avoidUntilMs.store(0, std::memory_order_relaxed);
  } else {
    state = std::make_shared<TargetState>(std::move(url), b.loops);
    if (b.loops > 0 && state->addresses.empty())
      b.problem("route " + record.key().text() + ": target " + state->url.canonical + ": " +
                state->resolveError + " (tried again with the next table)");
  }
  state->maxConnections.store(t.maxConnections, std::memory_order_relaxed);
  return state;
}

/// A target in rotation as its balancer sees it.
Candidate candidateOf(std::shared_ptr<TargetState> state, const TargetRecord& t, const Route& route,
                      const SnapshotClock& clock) {
  Candidate candidate;
  candidate.target = std::move(state);
  candidate.weight = t.weight;
  if (route.slowStart.count() > 0) {
    // The ramp began at a wall-clock time; on the steady clock that is as long before
    // clock.steadyMs as it was before clock.systemMs.
    if (const auto since = storeTimeMs(t.servingSince))
      candidate.warmFromMs = clock.steadyMs - (clock.systemMs - *since);
  }
  return candidate;
}

/// One route from its record, carrying over what `before` (the route of the same prefix in the
/// previous table, or null) holds at run time.
std::shared_ptr<const Route> buildRoute(const RouteRecord& record, const Route* before,
                                        std::size_t slot, const Building& b) {
  auto route = std::make_shared<Route>();
  route->host = record.host;
  route->prefix = record.prefix;
  route->settings =
      RouteSettings::of(record.policies, record.prefix, before ? before->settings : nullptr);
  route->balancer = record.balancer;
  route->slowStart = record.health.slowStart;
  route->slot = slot;
  if (b.metrics)
    route->metrics =
        before && before->metrics ? before->metrics : b.metrics->route(record.prefix, record.host);

  route->state = before && before->state ? before->state : std::make_shared<RouteState>();

  std::unordered_map<std::string_view, std::size_t> earlier;  // canonical URL -> index in `before`
  if (before) {
    earlier.reserve(before->targets.size());
    for (std::size_t i = 0; i < before->targets.size(); ++i)
      earlier.emplace(before->targets[i]->url.canonical, i);
  }
  std::unordered_set<std::string> seen;
  std::vector<Candidate> candidates;
  route->targets.reserve(record.targets.size());
  for (const auto& t : record.targets) {
    TargetUrl url;
    try {
      url = parseTargetUrl(t.url);
    } catch (const InvalidInput& e) {
      b.problem("route " + record.key().text() + ": skipping target '" + t.url + "': " + e.what());
      continue;
    }
    if (!seen.insert(url.canonical).second) continue;
    const auto it = earlier.find(url.canonical);
    auto state = targetState(std::move(url), t, record, before,
                             it == earlier.end() ? std::string::npos : it->second, b);
    if (route->metrics && !state->metrics)
      state->metrics = b.metrics->target(route->metrics, state->url.canonical);
    route->targets.push_back(state);
    route->standing.push_back({t.weight, t.state, t.healthy});
    if (!route->standing.back().inRotation()) continue;
    candidates.push_back(candidateOf(std::move(state), t, *route, b.clock));
  }
  assert(route->targets.size() == route->standing.size());
  int weightScale = 0;
  for (const auto& s : route->standing) weightScale = std::max(weightScale, s.weight);
  route->picker = makeRouteBalancer(route->balancer, std::move(candidates),
                                    SlowStart(route->slowStart), weightScale);
  return route;
}

/// The table's order: by prefix, then host (RouteKey's order), without building keys.
template <typename A, typename B>
bool keyLess(const A& a, const B& b) {
  const int byPrefix = a.prefix.compare(b.prefix);
  return byPrefix < 0 || (byPrefix == 0 && a.host < b.host);
}

template <typename A, typename B>
bool sameKey(const A& a, const B& b) {
  return a.prefix == b.prefix && a.host == b.host;
}

/// `changed` in key order, one record per key.
std::vector<const RouteRecord*> byKeyOnce(const std::vector<RouteRecord>& changed) {
  std::vector<const RouteRecord*> rebuilt;
  rebuilt.reserve(changed.size());
  for (const auto& r : changed) rebuilt.push_back(&r);
  std::sort(rebuilt.begin(), rebuilt.end(),
            [](const RouteRecord* a, const RouteRecord* b) { return keyLess(*a, *b); });
  rebuilt.erase(
      std::unique(rebuilt.begin(), rebuilt.end(),
                  [](const RouteRecord* a, const RouteRecord* b) { return sameKey(*a, *b); }),
      rebuilt.end());
  return rebuilt;
}

/// The targets of `old` that `now` no longer holds.
void droppedTargets(const Route& old, const Route& now,
                    std::vector<std::shared_ptr<TargetState>>& dropped) {
  std::unordered_set<const TargetState*> kept;
  for (const auto& t : now.targets) kept.insert(t.get());
  for (const auto& t : old.targets)
    if (!kept.count(t.get())) dropped.push_back(t);
}

}  // namespace

void RouteTable::index(const RouteTable* sharing) {
  router_ = sharing ? sharing->router_ : std::make_shared<const HostRouter>(routes_);
#ifndef NDEBUG
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& r = routes_[i];
    assert(r->slot < slotEnd_ && !freeSlots_.count(r->slot) && "a route's slot is its own");
    assert(router_->find(r->host, r->prefix) == i && "the index gives each route its position");
  }
#endif
}

void RouteTable::count(const Route& route, bool added) {
  // Kept as routes come and go rather than summed over the table: at 25,000 routes a sum
  // touched every route (three cache misses each) at each change.
  const std::size_t targets = route.targets.size();
  const std::size_t inRotation = route.candidates().size();
  if (added) {
    targetCount_ += targets;
    inRotationCount_ += inRotation;
  } else {
    assert(targetCount_ >= targets && inRotationCount_ >= inRotation);
    targetCount_ -= targets;
    inRotationCount_ -= inRotation;
  }
}

std::shared_ptr<const RouteTable> RouteTable::build(const std::vector<RouteRecord>& records,
                                                    const RouteTable* previous,
                                                    std::int64_t revision,
                                                    std::vector<std::string>* problems,
                                                    std::size_t loops, ProxyMetrics* metrics,
                                                    SnapshotClock clock) {
  auto table = std::make_shared<RouteTable>();
  table->revision_ = revision;
  // Key order whatever the caller's (the store reads in that order): patch() merges into it.
  const auto byPrefix = [](const RouteRecord& a, const RouteRecord& b) { return keyLess(a, b); };
  std::vector<RouteRecord> ordered;
  const std::vector<RouteRecord>* source = &records;
  if (!std::is_sorted(records.begin(), records.end(), byPrefix)) {
    ordered = records;
    std::stable_sort(ordered.begin(), ordered.end(), byPrefix);
    source = &ordered;
  }
  const auto slots = assignSlots(*source, previous);
  const Building building{problems, loops, metrics, clock};
  table->routes_.reserve(source->size());
  std::set<std::size_t> used;
  for (std::size_t r = 0; r < source->size(); ++r) {
    const RouteRecord& record = (*source)[r];
    const Route* before = previous ? previous->find(record.host, record.prefix) : nullptr;
    table->routes_.push_back(buildRoute(record, before, slots[r], building));
    table->count(*table->routes_.back(), true);
    used.insert(slots[r]);
    table->slotEnd_ = std::max(table->slotEnd_, slots[r] + 1);
  }
  for (std::size_t s = 0; s < table->slotEnd_; ++s)
    if (!used.count(s)) table->freeSlots_.insert(s);
  table->index();
  return table;
}

std::shared_ptr<const RouteTable> RouteTable::patch(
    const RouteTable& previous, const std::vector<RouteRecord>& changed,
    const std::vector<RouteKey>& removed, std::int64_t revision, std::vector<std::string>* problems,
    std::size_t loops, ProxyMetrics* metrics, SnapshotClock clock,
    std::vector<std::shared_ptr<TargetState>>* dropped) {
  auto table = std::make_shared<RouteTable>();
  table->revision_ = revision;
  table->freeSlots_ = previous.freeSlots_;
  table->slotEnd_ = previous.slotEnd_;
  table->targetCount_ = previous.targetCount_;
  table->inRotationCount_ = previous.inRotationCount_;

  // The touched routes, in order: those rebuilt and those dropped.
  const std::vector<const RouteRecord*> rebuilt = byKeyOnce(changed);
  std::unordered_set<const Route*> gone;
  for (const auto& key : removed) {
    const Route* before = previous.find(key.host, key.prefix);
    if (!before) continue;
    gone.insert(before);
    table->freeSlots_.insert(before->slot);
  }
  std::vector<const Route*> befores(rebuilt.size());
  for (std::size_t i = 0; i < rebuilt.size(); ++i)
    befores[i] = previous.find(rebuilt[i]->host, rebuilt[i]->prefix);
  const std::vector<std::size_t> slots = table->takeSlots(befores);
  // Merge the previous routes (minus those touched) with the rebuilt ones, in key order.
  const Building building{problems, loops, metrics, clock};
  const auto rebuild = [&](std::size_t i) {
    table->routes_.push_back(buildRoute(*rebuilt[i], befores[i], slots[i], building));
    table->count(*table->routes_.back(), true);
  };
  table->routes_.reserve(previous.routes_.size() + rebuilt.size());
  std::size_t next = 0;
  for (const auto& route : previous.routes_) {
    while (next < rebuilt.size() && keyLess(*rebuilt[next], *route)) rebuild(next++);
    if (next < rebuilt.size() && sameKey(*rebuilt[next], *route)) {
      table->count(*route, false);
      rebuild(next++);
      if (dropped) droppedTargets(*route, *table->routes_.back(), *dropped);
    } else if (gone.count(route.get())) {
      table->count(*route, false);
      if (dropped) dropped->insert(dropped->end(), route->targets.begin(), route->targets.end());
    } else {
      table->routes_.push_back(route);
    }
  }
  while (next < rebuilt.size()) rebuild(next++);
  // No route added or removed: every route kept its position, and the index its keys.
  const bool sameRoutes =
      gone.empty() && std::all_of(befores.begin(), befores.end(), [](const Route* b) { return b; });
  table->index(sameRoutes ? &previous : nullptr);
  return table;
}

std::vector<std::size_t> RouteTable::takeSlots(const std::vector<const Route*>& befores) {
  // As build() assigns them: a route that stays keeps its own, then new ones take the lowest
  // free in prefix order.
  std::vector<std::size_t> slots(befores.size());
  for (std::size_t i = 0; i < befores.size(); ++i) {
    if (befores[i]) {
      slots[i] = befores[i]->slot;
    } else if (!freeSlots_.empty()) {
      slots[i] = *freeSlots_.begin();
      freeSlots_.erase(freeSlots_.begin());
    } else {
      slots[i] = slotEnd_++;
    }
  }
  return slots;
}

const Route* RouteTable::find(std::string_view host, std::string_view prefix) const {
  if (!router_) return nullptr;
  const std::size_t at = router_->find(host, prefix);
  return at == HostRouter::npos ? nullptr : routes_[at].get();
}

const Route* RouteTable::match(std::string_view host, std::string_view requestTarget) const {
  if (!router_ || router_->empty()) return nullptr;
  const std::string_view origin = RoutePath::originForm(requestTarget);
  if (origin.empty()) return nullptr;  // "*" or garbage
  const std::size_t at = router_->match(host, origin.substr(0, origin.find('?')));
  return at == HostRouter::npos ? nullptr : routes_[at].get();
}

std::vector<std::shared_ptr<TargetState>> RouteTable::droppedBy(const RouteTable& next) const {
  std::unordered_set<const TargetState*> kept;
  for (const auto& r : next.routes_) {
    for (const auto& t : r->targets) kept.insert(t.get());
  }
  std::vector<std::shared_ptr<TargetState>> dropped;
  for (const auto& r : routes_) {
    for (const auto& t : r->targets) {
      if (!kept.count(t.get())) dropped.push_back(t);
    }
  }
  return dropped;
}

}  // namespace portico
