#include "health/HealthSchedule.h"

#include <cmath>
#include <unordered_set>

#include "base/Log.h"

namespace portico {

std::chrono::milliseconds HealthSchedule::phase(std::int64_t targetId,
                                                std::chrono::milliseconds interval) {
  constexpr double kGolden = 0.6180339887498949;
  double whole = 0;
  const double fraction = std::modf(static_cast<double>(targetId) * kGolden, &whole);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::fabs(fraction) * static_cast<double>(interval.count())));
}

void HealthSchedule::add(const std::shared_ptr<const RouteCheck>& route, const TargetRecord& target,
                         TimePoint due) {
  Entry entry;
  try {
    entry.target = PackedTargetUrl(parseTargetUrl(target.url));
  } catch (const std::exception& e) {
    // The store only holds validated URLs; a bad one is skipped, not allowed to stop the rest.
    logWarn("health: skipping target " + target.url + " of route " +
            RouteKey{route->host, route->prefix}.text() + ": " + e.what());
    return;
  }
  entry.generation = nextGeneration_++;
  entry.route = route;
  entry.state = HealthState(target.healthy);
  entry.stored = target.healthy;
  auto& placed = entries_[target.id] = std::move(entry);
  setDue(placed, target.id, due);
}

void HealthSchedule::setDue(Entry& entry, std::int64_t id, TimePoint due) {
  if (!entry.inFlight) dueIndex_.erase({entry.due, id});
  entry.due = due;
  if (!entry.inFlight) dueIndex_.insert({due, id});
}

namespace {

/// Stored URLs are canonical; one that is not (an old store) is compared by what it parses to.
bool sameUrl(const PackedTargetUrl& held, const std::string& stored) {
  if (held.canonical() == stored) return true;
  try {
    return parseTargetUrl(stored).canonical == held.canonical();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::shared_ptr<const HealthSchedule::RouteCheck> HealthSchedule::checkOf(const RouteRecord& route,
                                                                          const RouteSlot* held) {
  const bool preserveHost = route.policies.request.preserveHost;
  if (held && held->check && held->check->routeId == route.id &&
      held->check->prefix == route.prefix && held->check->host == route.host &&
      held->check->preserveHost == preserveHost && held->check->spec == route.health)
    return held->check;
  return std::make_shared<const RouteCheck>(
      RouteCheck{route.id, route.prefix, route.host, preserveHost, route.health});
}

std::vector<std::int64_t> HealthSchedule::syncRoute(const RouteRecord& route,
                                                    const std::shared_ptr<const RouteCheck>& check,
                                                    TimePoint now) {
  std::vector<std::int64_t> kept;
  kept.reserve(route.targets.size());
  for (const auto& target : route.targets) {
    // A disabled target is not checked: dropped like a removed one, due at once when
    // re-enabled (its stored verdict may be stale by then).
    if (target.state == ServingState::Disabled) continue;
    kept.push_back(target.id);
    auto it = entries_.find(target.id);
    if (it != entries_.end() &&
        (!sameUrl(it->second.target, target.url) || it->second.route->routeId != route.id)) {
      // SQLite may hand a deleted row's id to a new row: a different target, fresh state.
      erase(it);
      it = entries_.end();
    }
    if (it == entries_.end()) {
      const bool resumed = !synced_ && !target.lastCheckedAt.empty();
      add(check, target, resumed ? now + phase(target.id, route.health.interval) : now);
      continue;
    }
    Entry& entry = it->second;
    if (entry.route->spec.interval != route.health.interval && !entry.inFlight) {
      // A new interval takes effect now rather than after the old one has run out.
      setDue(entry, target.id, now + phase(target.id, route.health.interval));
    }
    entry.route = check;
  }
  return kept;
}

std::unordered_map<std::int64_t, HealthSchedule::Entry>::iterator HealthSchedule::erase(
    std::unordered_map<std::int64_t, Entry>::iterator it) {
  const Entry& entry = it->second;
  if (!entry.inFlight) dueIndex_.erase({entry.due, it->first});
  if (!entry.probes.empty()) {
    auto& kept = retired_[Labels{entry.route->prefix, entry.route->host, entry.target.canonical()}];
    kept.success += entry.probes.success;
    kept.failure += entry.probes.failure;
  }
  return entries_.erase(it);
}

void HealthSchedule::drop(std::int64_t id, const RouteKey* onlyOn) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  // A reused id may name a target of another route by now: that one stays.
  const RouteCheck& route = *it->second.route;
  if (onlyOn && (route.prefix != onlyOn->prefix || route.host != onlyOn->host)) return;
  erase(it);
}

void HealthSchedule::sync(const std::vector<RouteRecord>& routes, TimePoint now) {
  std::unordered_set<std::int64_t> seen;
  std::unordered_map<std::string, RouteSlot> byRoute;
  for (const auto& route : routes) {
    const auto key = route.key().text();
    const auto held = byRoute_.find(key);
    RouteSlot slot;
    slot.check = checkOf(route, held == byRoute_.end() ? nullptr : &held->second);
    slot.ids = syncRoute(route, slot.check, now);
    seen.insert(slot.ids.begin(), slot.ids.end());
    byRoute[key] = std::move(slot);
  }
  byRoute_.swap(byRoute);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    it = erase(it);
  }
  synced_ = true;
}

void HealthSchedule::apply(const std::vector<RouteRecord>& routes,
                           const std::vector<RouteKey>& removed, TimePoint now) {
  for (const auto& key : removed) {
    auto it = byRoute_.find(key.text());
    if (it == byRoute_.end()) continue;
    for (const auto id : it->second.ids) drop(id, &key);
    byRoute_.erase(it);
  }
  for (const auto& route : routes) {
    const RouteKey key = route.key();
    auto& slot = byRoute_[key.text()];
    slot.check = checkOf(route, &slot);
    auto kept = syncRoute(route, slot.check, now);
    const std::unordered_set<std::int64_t> keep(kept.begin(), kept.end());
    for (const auto id : slot.ids) {
      // Gone from the route, unless the id now names a target kept (a reused id, re-added).
      if (!keep.count(id)) drop(id, &key);
    }
    slot.ids = std::move(kept);
  }
  synced_ = true;
}

std::vector<HealthJob> HealthSchedule::takeDue(TimePoint now, std::size_t limit) {
  std::vector<HealthJob> jobs;
  while (jobs.size() < limit && !dueIndex_.empty() && dueIndex_.begin()->first <= now) {
    const auto id = dueIndex_.begin()->second;
    dueIndex_.erase(dueIndex_.begin());
    Entry& entry = entries_.at(id);
    entry.inFlight = true;
    const RouteCheck& route = *entry.route;
    jobs.push_back(HealthJob{id, entry.generation, entry.target.unpack(), route.spec, entry.due,
                             route.prefix, route.host, route.preserveHost});
  }
  return jobs;
}

std::optional<HealthVerdict> HealthSchedule::complete(const HealthJob& job,
                                                      const ProbeResult& result, TimePoint now) {
  auto it = entries_.find(job.targetId);
  if (it == entries_.end() || it->second.generation != job.generation) {
    // Counted all the same (it ran), under the labels it ran with.
    if (!result.local) retired_[Labels{job.prefix, job.host, job.target.canonical}].add(result.ok);
    return std::nullopt;
  }
  Entry& entry = it->second;
  entry.inFlight = false;
  if (!result.local) entry.probes.add(result.ok);
  TimePoint next = entry.due + entry.route->spec.interval;
  if (next < now) next = now;  // fell behind (slow probe or busy pool): probe again soon
  entry.due = next;
  dueIndex_.insert({next, job.targetId});

  if (result.local) return std::nullopt;  // the checker's own trouble, not the target's
  entry.state.record(result.ok, entry.route->spec.fall, entry.route->spec.rise);
  if (entry.state.healthy() == entry.stored) return std::nullopt;
  entry.stored = entry.state.healthy();
  HealthVerdict verdict;
  verdict.targetId = job.targetId;
  verdict.generation = entry.generation;
  verdict.prefix = entry.route->prefix;
  verdict.host = entry.route->host;
  verdict.url = entry.target.canonical();
  verdict.healthy = entry.state.healthy();
  if (!verdict.healthy) verdict.error = result.error.empty() ? "probe failed" : result.error;
  return verdict;
}

void HealthSchedule::release(const HealthJob& job) {
  auto it = entries_.find(job.targetId);
  if (it == entries_.end() || it->second.generation != job.generation || !it->second.inFlight)
    return;
  it->second.inFlight = false;
  dueIndex_.insert({it->second.due, job.targetId});
}

void HealthSchedule::releaseInFlight() {
  for (auto& [id, entry] : entries_) {
    if (!entry.inFlight) continue;
    entry.inFlight = false;
    dueIndex_.insert({entry.due, id});
  }
}

void HealthSchedule::storeFailed(std::int64_t targetId, std::uint64_t generation) {
  auto it = entries_.find(targetId);
  if (it == entries_.end() || it->second.generation != generation) return;
  // Whatever the store holds, it is not the in-memory verdict: the next probe writes again.
  it->second.stored = !it->second.state.healthy();
}

std::optional<HealthSchedule::TimePoint> HealthSchedule::nextDue() const {
  if (dueIndex_.empty()) return std::nullopt;
  return dueIndex_.begin()->first;
}

std::optional<HealthSchedule::TimePoint> HealthSchedule::dueOf(std::int64_t targetId) const {
  auto it = entries_.find(targetId);
  if (it == entries_.end()) return std::nullopt;
  return it->second.due;
}

std::optional<bool> HealthSchedule::healthyOf(std::int64_t targetId) const {
  auto it = entries_.find(targetId);
  if (it == entries_.end()) return std::nullopt;
  return it->second.state.healthy();
}

void HealthSchedule::visitCounts(const ProbeCountSource::Visit& visit) const {
  for (const auto& [labels, count] : retired_)
    visit(std::get<0>(labels), std::get<1>(labels), std::get<2>(labels), count);
  for (const auto& [id, entry] : entries_) {
    if (!entry.probes.empty())
      visit(entry.route->prefix, entry.route->host, entry.target.canonical(), entry.probes);
  }
}

}  // namespace portico
