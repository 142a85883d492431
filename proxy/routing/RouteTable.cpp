#include "routing/RouteTable.h"

#include <algorithm>
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

/// One route from its record, carrying over what `before` (the route of the same prefix in the
/// previous table, or null) holds at run time.
std::shared_ptr<const Route> buildRoute(const RouteRecord& record, const Route* before,
                                        std::size_t slot, std::vector<std::string>* problems,
                                        std::size_t loops, ProxyMetrics* metrics,
                                        const SnapshotClock& clock) {
  auto route = std::make_shared<Route>();
  route->prefix = record.prefix;
  route->balancer = record.balancer;
  route->slowStart = record.health.slowStart;
  route->slot = slot;
  if (metrics)
    route->metrics = before && before->metrics ? before->metrics : metrics->route(record.prefix);

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
        problems->push_back("route " + record.prefix + ": target " + state->url.canonical + ": " +
                            state->resolveError + " (tried again with the next table)");
    }
    if (metrics && !state->metrics)
      state->metrics = metrics->target(record.prefix, state->url.canonical);
    route->targets.push_back(state);
    route->healthy.push_back(t.healthy);
    route->weights.push_back(t.weight);
    route->states.push_back(t.state);
    if (!t.healthy || t.state != ServingState::Active || t.weight <= 0) continue;
    Candidate candidate;
    candidate.target = state;
    candidate.weight = t.weight;
    if (route->slowStart.count() > 0) {
      // The ramp began at a wall-clock time; on the steady clock that is as long before
      // clock.steadyMs as it was before clock.systemMs.
      if (const auto since = storeTimeMs(t.servingSince))
        candidate.warmFromMs = clock.steadyMs - (clock.systemMs - *since);
    }
    route->candidates.push_back(std::move(state));
    candidates.push_back(std::move(candidate));
  }
  int weightScale = 0;
  for (const int w : route->weights) weightScale = std::max(weightScale, w);
  route->picker = makeBalancer(route->balancer, std::move(candidates), SlowStart(route->slowStart),
                               weightScale);
  return route;
}

}  // namespace

void RouteTable::index() {
  byKey_.clear();
  byKey_.reserve(routes_.size());
  targetCount_ = 0;
  inRotationCount_ = 0;
  for (const auto& r : routes_) {
    byKey_.emplace(RoutePath::key(r->prefix), r.get());
    targetCount_ += r->targets.size();
    inRotationCount_ += r->candidates.size();
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
  // Prefix order whatever the caller's (the store reads in that order): patch() merges into it.
  const auto byPrefix = [](const RouteRecord& a, const RouteRecord& b) {
    return a.prefix < b.prefix;
  };
  std::vector<RouteRecord> ordered;
  const std::vector<RouteRecord>* source = &records;
  if (!std::is_sorted(records.begin(), records.end(), byPrefix)) {
    ordered = records;
    std::stable_sort(ordered.begin(), ordered.end(), byPrefix);
    source = &ordered;
  }
  const auto slots = assignSlots(*source, previous);
  table->routes_.reserve(source->size());
  std::set<std::size_t> used;
  for (std::size_t r = 0; r < source->size(); ++r) {
    const RouteRecord& record = (*source)[r];
    const Route* before = previous ? previous->find(record.prefix) : nullptr;
    table->routes_.push_back(buildRoute(record, before, slots[r], problems, loops, metrics, clock));
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
    const std::vector<std::string>& removed, std::int64_t revision,
    std::vector<std::string>* problems, std::size_t loops, ProxyMetrics* metrics,
    SnapshotClock clock, std::vector<std::shared_ptr<TargetState>>* dropped) {
  auto table = std::make_shared<RouteTable>();
  table->revision_ = revision;
  table->freeSlots_ = previous.freeSlots_;
  table->slotEnd_ = previous.slotEnd_;

  // The touched prefixes, in order: those rebuilt and those dropped.
  std::vector<const RouteRecord*> rebuilt;
  rebuilt.reserve(changed.size());
  for (const auto& r : changed) rebuilt.push_back(&r);
  std::sort(rebuilt.begin(), rebuilt.end(),
            [](const RouteRecord* a, const RouteRecord* b) { return a->prefix < b->prefix; });
  rebuilt.erase(std::unique(rebuilt.begin(), rebuilt.end(),
                            [](const RouteRecord* a, const RouteRecord* b) {
                              return a->prefix == b->prefix;
                            }),
                rebuilt.end());
  std::unordered_set<std::string_view> gone;
  for (const auto& prefix : removed) {
    const Route* before = previous.find(prefix);
    if (!before) continue;
    gone.insert(before->prefix);
    table->freeSlots_.insert(before->slot);
  }
  // Slots first, as build() assigns them: a route that stays keeps its own, then new ones take
  // the lowest free in prefix order.
  std::vector<std::size_t> slots(rebuilt.size());
  std::vector<const Route*> befores(rebuilt.size());
  for (std::size_t i = 0; i < rebuilt.size(); ++i) {
    befores[i] = previous.find(rebuilt[i]->prefix);
    if (befores[i]) slots[i] = befores[i]->slot;
  }
  for (std::size_t i = 0; i < rebuilt.size(); ++i) {
    if (befores[i]) continue;
    if (!table->freeSlots_.empty()) {
      slots[i] = *table->freeSlots_.begin();
      table->freeSlots_.erase(table->freeSlots_.begin());
    } else {
      slots[i] = table->slotEnd_++;
    }
  }
  // Merge the previous routes (minus those touched) with the rebuilt ones, in prefix order.
  table->routes_.reserve(previous.routes_.size() + rebuilt.size());
  std::size_t next = 0;
  for (const auto& route : previous.routes_) {
    while (next < rebuilt.size() && rebuilt[next]->prefix < route->prefix) {
      table->routes_.push_back(
          buildRoute(*rebuilt[next], befores[next], slots[next], problems, loops, metrics, clock));
      ++next;
    }
    if (next < rebuilt.size() && rebuilt[next]->prefix == route->prefix) {
      table->routes_.push_back(
          buildRoute(*rebuilt[next], befores[next], slots[next], problems, loops, metrics, clock));
      ++next;
      if (dropped) {
        const Route& now = *table->routes_.back();
        std::unordered_set<const TargetState*> kept;
        for (const auto& t : now.targets) kept.insert(t.get());
        for (const auto& t : route->targets)
          if (!kept.count(t.get())) dropped->push_back(t);
      }
      continue;
    }
    if (gone.count(route->prefix)) {
      if (dropped) dropped->insert(dropped->end(), route->targets.begin(), route->targets.end());
      continue;
    }
    table->routes_.push_back(route);
  }
  for (; next < rebuilt.size(); ++next)
    table->routes_.push_back(
        buildRoute(*rebuilt[next], befores[next], slots[next], problems, loops, metrics, clock));
  table->index();
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
