#include "store/StoreWriter.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <map>
#include <set>
#include <type_traits>

#include "base/Errors.h"
#include "model/ModelJson.h"
#include "store/ChangeHistory.h"
#include "store/LeaseTable.h"
#include "store/ProxyRegistry.h"
#include "store/SqlTransaction.h"

namespace portico {
namespace {

void requireMaxConnections(int max) {
  if (max < 0 || max > kMaxTargetConnections)
    throw InvalidInput("maxConnections " + std::to_string(max) + " is out of range 0-" +
                       std::to_string(kMaxTargetConnections));
}

void requireWeight(int weight) {
  if (weight < 0 || weight > kMaxWeight)
    throw InvalidInput("weight " + std::to_string(weight) + " is out of range 0-" +
                       std::to_string(kMaxWeight));
}

Poco::JSON::Object::Ptr one(const std::string& name, const Poco::Dynamic::Var& value) {
  auto o = jsonObject();
  o->set(name, value);
  return o;
}

Poco::JSON::Object::Ptr verdictJson(bool healthy, const std::string& error) {
  auto o = one("healthy", healthy);
  if (!healthy && !error.empty()) o->set("error", error);
  return o;
}

SqlParams healthParams(const HealthSpec& health) {
  return {static_cast<std::int64_t>(health.interval.count()),
          static_cast<std::int64_t>(health.timeout.count()),
          toString(health.type),
          health.path,
          static_cast<std::int64_t>(health.fall),
          static_cast<std::int64_t>(health.rise),
          static_cast<std::int64_t>(health.slowStart.count())};
}

RouteRecord requireRoute(SqlTransaction& tx, const RouteKey& key) {
  auto route = tx.route(key);
  if (!route) throw NotFound("route " + key.text() + " not found");
  return std::move(*route);
}

}  // namespace

/// One change: the revision read (and locked, where the dialect must) inside the transaction,
/// the writer's If-Match checked against it, the history rows of what it changes collected
/// and, when there are any, the revision bumped and the rows written before the commit. A
/// change without a history row cannot bump the revision, and the reverse.
class StoreWriter::Change {
 public:
  Change(StoreWriter& writer, SqlTransaction& tx, const WriteContext& who)
      : writer_(writer),
        tx_(tx),
        revision_(tx.queryInt(std::string("SELECT value FROM revision WHERE id = 1") +
                              tx.dialect().lockRevision)),
        log_(who, tx.queryText(std::string("SELECT ") + tx.dialect().now)) {
    if (!who.ifMatch.matches(revision_))
      throw PreconditionFailed("the store is at revision " + std::to_string(revision_) +
                                   ", not at the one If-Match names (" + who.ifMatch.text() +
                                   "); nothing was changed: read it again and retry",
                               revision_);
  }

  SqlTransaction& tx() { return tx_; }
  ChangeLog& log() { return log_; }
  /// The transaction's time, the same for every row and timestamp it writes.
  const std::string& now() const { return log_.now(); }

  /// Commits; returns the revision after (unchanged when nothing changed).
  std::int64_t commit() {
    if (!log_.empty()) {
      tx_.exec("UPDATE revision SET value = value + 1 WHERE id = 1");
      ++revision_;
      writeChanges(tx_, log_, revision_, writer_.historyLimit_.load());
      writer_.announce(tx_, revision_);
    }
    tx_.commit();
    return revision_;
  }

  /// Inserts the route `spec` describes, with its targets and their history rows.
  void insertRoute(const RouteSpec& spec) {
    const std::int64_t id = insertRouteRow(spec);
    log_.add("route.create", spec.key(), "", nullptr,
             ChangeLog::routeJson(spec.balancer, spec.health, spec.policies));
    insertTargets(id, spec.key(), spec.targets);
  }

  /// Inserts `targets` on route `routeId` (those present are skipped) with their history rows.
  int insertTargets(std::int64_t routeId, const RouteKey& route,
                    const std::vector<TargetSpec>& targets) {
    int added = 0;
    for (const auto& t : targets) {
      if (!insertTarget(routeId, t)) continue;
      ++added;
      TargetRecord fresh;
      fresh.weight = t.weight;
      fresh.maxConnections = t.maxConnections;
      fresh.state = t.state;
      log_.add("target.add", route, t.url, nullptr, ChangeLog::targetJson(fresh));
    }
    return added;
  }

  /// Writes a route's balancer, health settings and policies.
  void updateRouteRow(std::int64_t routeId, const RouteSpec& route) {
    auto params = healthParams(route.health);
    params.emplace_back(toString(route.balancer));
    params.emplace_back(storedPolicies(route.policies));
    params.emplace_back(routeId);
    params.emplace_back(route.health.grpcService);
    tx_.exec(
        "UPDATE routes SET health_interval_ms = $1, health_timeout_ms = $2, health_type = $3, "
        "health_path = $4, health_fall = $5, health_rise = $6, slow_start_ms = $7, "
        "balancer = $8, policies = $9, health_grpc_service = $11 WHERE id = $10",
        params);
  }

  void setWeight(std::int64_t targetId, int weight) {
    tx_.exec("UPDATE targets SET weight = $1, modified_at = $2 WHERE id = $3",
             {static_cast<std::int64_t>(weight), now(), targetId});
  }

  void setMaxConnections(std::int64_t targetId, int max) {
    tx_.exec("UPDATE targets SET max_connections = $1, modified_at = $2 WHERE id = $3",
             {static_cast<std::int64_t>(max), now(), targetId});
  }

  void setState(std::int64_t targetId, ServingState state) {
    // Back in rotation: slow start ramps from now.
    const bool resumes = state == ServingState::Active;
    tx_.exec(
        "UPDATE targets SET state = $1, modified_at = $2, serving_since = CASE WHEN $3 = 1 "
        "THEN $2 ELSE serving_since END WHERE id = $4",
        {toString(state), now(), std::int64_t{resumes ? 1 : 0}, targetId});
  }

  /// Makes one change of a configuration (ConfigDiff) and writes its history row.
  void make(const ConfigChange& change) {
    const std::string& action = change.action;
    const TargetSpec& target = change.targetSpec;
    if (action == "route.create") {
      created_[change.route] = insertRouteRow(change.routeSpec);
    } else if (action == "route.update") {
      updateRouteRow(change.routeId, change.routeSpec);
    } else if (action == "route.delete") {
      tx_.exec("DELETE FROM routes WHERE id = $1", {change.routeId});
    } else if (action == "target.add") {
      // A route of the same change set has no id in the diff: it has one since its insert.
      insertTarget(change.routeId ? change.routeId : created_.at(change.route), target);
    } else if (action == "target.remove") {
      tx_.exec("DELETE FROM targets WHERE id = $1", {change.targetId});
    } else if (action == "target.weight") {
      setWeight(change.targetId, target.weight);
    } else if (action == "target.max_connections") {
      setMaxConnections(change.targetId, target.maxConnections);
    } else if (action == "target.state") {
      setState(change.targetId, target.state);
    } else {
      assert(false && "a change ConfigDiff does not make");
      throw StoreError("unknown configuration change " + action);
    }
    log_.add(action, change.route, change.target, change.before, change.after);
  }

 private:
  std::int64_t insertRouteRow(const RouteSpec& spec) {
    SqlParams params{spec.prefix, toString(spec.balancer)};
    for (auto& p : healthParams(spec.health)) params.push_back(std::move(p));
    params.emplace_back(spec.host);
    params.emplace_back(storedPolicies(spec.policies));
    params.emplace_back(spec.health.grpcService);
    return tx_.insert(
        "INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms, "
        "health_type, health_path, health_fall, health_rise, slow_start_ms, host, policies, "
        "health_grpc_service) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        params);
  }

  /// False when the route has the target already.
  bool insertTarget(std::int64_t routeId, const TargetSpec& t) {
    requireWeight(t.weight);
    requireMaxConnections(t.maxConnections);
    return tx_.exec(
               "INSERT INTO targets (route_id, url, healthy, weight, serving_since, "
               "modified_at, max_connections, state) VALUES ($1, $2, 1, $3, $4, $4, $5, $6) "
               "ON CONFLICT (route_id, url) DO NOTHING",
               {routeId, t.url, static_cast<std::int64_t>(t.weight), now(),
                static_cast<std::int64_t>(t.maxConnections), toString(t.state)}) > 0;
  }

  StoreWriter& writer_;
  SqlTransaction& tx_;
  std::map<RouteKey, std::int64_t> created_;  // by make(): the ids of the routes it inserted
  std::int64_t revision_;
  ChangeLog log_;
};

template <typename F>
auto StoreWriter::inTransaction(WriteKind kind, F&& body)
    -> decltype(body(std::declval<SqlTransaction&>())) {
  using Result = decltype(body(std::declval<SqlTransaction&>()));
  if constexpr (std::is_void_v<Result>) {
    transact(kind, body);
  } else {
    std::optional<Result> result;
    transact(kind, [&](SqlTransaction& tx) { result.emplace(body(tx)); });
    return std::move(*result);
  }
}

template <typename F>
auto StoreWriter::timed(WriteKind kind, F&& body)
    -> decltype(body(std::declval<SqlTransaction&>())) {
  // Timed from before the lock: what a writer waits for is part of what the metric shows.
  const auto start = std::chrono::steady_clock::now();
  const auto report = [&] {
    if (observer_)
      observer_->written(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  try {
    if constexpr (std::is_void_v<decltype(body(std::declval<SqlTransaction&>()))>) {
      inTransaction(kind, body);
      report();
    } else {
      auto result = inTransaction(kind, body);
      report();
      return result;
    }
  } catch (const StoreBusy&) {
    if (observer_) observer_->busy();
    throw;
  }
}

void StoreWriter::announce(SqlTransaction& /*tx*/, std::int64_t /*revision*/) {}

void StoreWriter::requireWritable() const {
  if (access_ != Access::ReadWrite) throw StoreError("store opened read-only");
}

void StoreWriter::setHistoryLimit(std::int64_t rows) {
  if (rows < 1) throw InvalidInput("the history limit must be at least 1 row");
  historyLimit_ = rows;
}

RouteRecord StoreWriter::createRoute(const RouteSpec& spec, const WriteContext& who,
                                     std::int64_t* revision) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    if (!tx.query("SELECT 1 FROM routes WHERE prefix = $1 AND host = $2", {spec.prefix, spec.host})
             .empty())
      throw Conflict("route " + spec.key().text() + " already exists");
    c.insertRoute(spec);
    auto route = tx.route(spec.key());
    assert(route);
    const auto after = c.commit();
    if (revision) *revision = after;
    return std::move(*route);
  });
}

void StoreWriter::deleteRoute(const RouteKey& key, const WriteContext& who,
                              std::int64_t* revision) {
  requireWritable();
  timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    const RouteRecord route = requireRoute(tx, key);
    tx.exec("DELETE FROM routes WHERE id = $1", {route.id});
    for (const auto& t : route.targets)
      c.log().add("target.remove", key, t.url, ChangeLog::targetJson(t), nullptr);
    c.log().add("route.delete", key, "",
                ChangeLog::routeJson(route.balancer, route.health, route.policies), nullptr);
    const auto after = c.commit();
    if (revision) *revision = after;
  });
}

RouteRecord StoreWriter::updateRoute(const RouteKey& key,
                                     const std::function<void(RouteRecord&)>& change,
                                     const WriteContext& who, std::int64_t* revision) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    const RouteRecord before = requireRoute(tx, key);
    RouteRecord after = before;
    change(after);
    after.health.validate();
    const auto [was, is] = ChangeLog::routeDifference(before, after);
    if (is->size() > 0) {
      RouteSpec settings;
      settings.balancer = after.balancer;
      settings.health = after.health;
      settings.policies = after.policies;
      c.updateRouteRow(before.id, settings);
      c.log().add("route.update", key, "", was, is);
    }
    const auto committed = c.commit();
    if (revision) *revision = committed;
    return requireRoute(tx, key);
  });
}

int StoreWriter::addTargets(const RouteKey& key, const std::vector<TargetSpec>& targets,
                            const std::optional<HealthSpec>& health, const WriteContext& who,
                            std::int64_t* revision) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    const RouteRecord route = requireRoute(tx, key);
    const int added = c.insertTargets(route.id, key, targets);
    if (health && !(*health == route.health)) {
      auto params = healthParams(*health);
      params.emplace_back(route.id);
      params.emplace_back(health->grpcService);
      tx.exec(
          "UPDATE routes SET health_interval_ms = $1, health_timeout_ms = $2, health_type = $3, "
          "health_path = $4, health_fall = $5, health_rise = $6, slow_start_ms = $7, "
          "health_grpc_service = $9 WHERE id = $8",
          params);
      c.log().add("route.health_check", key, "", healthCheckJson(route.health),
                  healthCheckJson(*health));
    }
    const auto after = c.commit();
    if (revision) *revision = after;
    return added;
  });
}

int StoreWriter::removeTargets(const RouteKey& key, const std::vector<std::string>& urls,
                               const WriteContext& who, std::int64_t* revision) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    const RouteRecord route = requireRoute(tx, key);
    int removed = 0;
    std::set<std::int64_t> gone;
    for (const auto& url : urls) {
      for (const auto& t : route.targets) {
        if (t.url != url || !gone.insert(t.id).second) continue;
        tx.exec("DELETE FROM targets WHERE id = $1", {t.id});
        ++removed;
        c.log().add("target.remove", key, url, ChangeLog::targetJson(t), nullptr);
        break;
      }
    }
    const auto after = c.commit();
    if (revision) *revision = after;
    return removed;
  });
}

TargetRecord StoreWriter::updateTarget(const RouteKey& key, const std::string& url,
                                       const TargetUpdate& update, const WriteContext& who,
                                       std::int64_t* revision) {
  requireWritable();
  if (update.weight) requireWeight(*update.weight);
  if (update.maxConnections) requireMaxConnections(*update.maxConnections);
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    const RouteRecord route = requireRoute(tx, key);
    const TargetRecord* found = nullptr;
    for (const auto& t : route.targets) {
      if (t.url == url) found = &t;
    }
    if (!found) throw NotFound("target " + url + " not found on route " + key.text());
    const TargetRecord& before = *found;
    if (update.weight && *update.weight != before.weight) {
      c.setWeight(before.id, *update.weight);
      c.log().add("target.weight", key, url, one("weight", before.weight),
                  one("weight", *update.weight));
    }
    if (update.maxConnections && *update.maxConnections != before.maxConnections) {
      c.setMaxConnections(before.id, *update.maxConnections);
      c.log().add("target.max_connections", key, url, one("maxConnections", before.maxConnections),
                  one("maxConnections", *update.maxConnections));
    }
    if (update.state && *update.state != before.state) {
      c.setState(before.id, *update.state);
      c.log().add("target.state", key, url, one("state", toString(before.state)),
                  one("state", toString(*update.state)));
    }
    TargetRecord result;
    for (auto& t : requireRoute(tx, key).targets) {
      if (t.id == before.id) result = std::move(t);
    }
    const auto committed = c.commit();
    if (revision) *revision = committed;
    return result;
  });
}

std::vector<ConfigChange> StoreWriter::applyConfig(const std::vector<RouteSpec>& desired,
                                                   const WriteContext& who,
                                                   std::int64_t* revision) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, who);
    auto changes = ConfigDiff::between(desired, tx.routes());
    for (const auto& change : changes) c.make(change);
    const auto after = c.commit();
    if (revision) *revision = after;
    return changes;
  });
}

std::vector<RouteKey> StoreWriter::seed(const std::vector<RouteSpec>& routes) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, WriteContext::config());
    std::vector<RouteKey> created;
    for (const auto& spec : routes) {
      const bool firstSeed = tx.exec(
                                 "INSERT INTO config_seeds (host, prefix) VALUES ($1, $2) ON "
                                 "CONFLICT DO NOTHING",
                                 {spec.host, spec.prefix}) > 0;
      if (firstSeed && !tx.route(spec.key())) {
        c.insertRoute(spec);
        created.push_back(spec.key());
      }
    }
    c.commit();
    return created;
  });
}

bool StoreWriter::recordVerdict(std::int64_t targetId, bool healthy, const std::string& error,
                                const std::string& holder) {
  requireWritable();
  return timed(WriteKind::Change, [&](SqlTransaction& tx) {
    Change c(*this, tx, WriteContext{"health", holder, {}, -1});
    if (!holder.empty() &&
        tx.query(std::string("SELECT 1 FROM health_leases WHERE target_id = $1 AND holder = $2 "
                             "AND expires_at > ") +
                     tx.dialect().nowMs,
                 {targetId, holder})
            .empty())
      return false;
    const auto found = tx.query(
        "SELECT t.url, r.prefix, t.healthy, COALESCE(t.last_error, ''), t.state, r.host FROM "
        "targets t "
        "JOIN routes r ON r.id = t.route_id WHERE t.id = $1",
        {targetId});
    if (found.empty()) return false;
    const std::string& url = found.text(0, 0);
    const RouteKey route{found.text(0, 5), found.text(0, 1)};
    const bool wasHealthy = found.integer(0, 2) != 0;
    const std::string& previousError = found.text(0, 3);
    if (wasHealthy == healthy || parseServingState(found.text(0, 4)) == ServingState::Disabled)
      return false;
    tx.exec(
        "UPDATE targets SET healthy = $1, last_error = $2, last_changed_at = $3, last_checked_at "
        "= $3, modified_at = $3, serving_since = CASE WHEN $1 = 1 THEN $3 ELSE serving_since END "
        "WHERE id = $4",
        {std::int64_t{healthy ? 1 : 0}, textOrNull(error), c.now(), targetId});
    c.log().add("target.health", route, url, verdictJson(wasHealthy, previousError),
                verdictJson(healthy, error));
    c.commit();
    return true;
  });
}

void StoreWriter::recordChecked(const std::vector<std::int64_t>& targetIds) {
  requireWritable();
  if (targetIds.empty()) return;
  std::string ids;
  for (auto id : targetIds) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id);
  }
  timed(WriteKind::Stamp, [&](SqlTransaction& tx) {
    tx.exec(std::string("UPDATE targets SET last_checked_at = ") + tx.dialect().now + " WHERE " +
                tx.dialect().idAmongParam1 + " AND state != 'disabled'",
            {ids});
    tx.commit();
  });
}

template <typename F>
void StoreWriter::leaseWrite(F&& body) {
  transact(WriteKind::LeaseRenewal, [&](SqlTransaction& tx) {
    body(tx);
    tx.commit();
  });
}

std::vector<std::int64_t> StoreWriter::renewLeases(const std::string& holder,
                                                   std::chrono::milliseconds ttl) {
  requireWritable();
  // No write transaction touches more than a slice of rows, and what must be counted or
  // listed is read outside them: SQLite has one write lock for everything, and a write from
  // the admin API waits for whoever holds it.
  const LeaseClock clock = inTransaction(WriteKind::LeaseRenewal, [&](SqlTransaction& tx) {
    const LeaseClock enlisted = enlistSidecar(tx, holder, ttl);
    tx.commit();
    return enlisted;
  });
  std::int64_t targets = 0;
  std::vector<std::int64_t> stale;
  read(ReadKind::Snapshot, [&](SqlTransaction& tx) {
    targets = countCheckedTargets(tx);
    stale = staleLeases(tx, clock.now);
    tx.commit();
  });
  for (const auto& range : sliceIds(stale, leaseSlice_))
    leaseWrite([&](SqlTransaction& tx) { dropStaleLeases(tx, range, clock.now); });
  std::vector<std::int64_t> held = extendHeld(holder, clock);
  evenOut(holder, clock, targets, held);
  return held;
}

std::vector<std::int64_t> StoreWriter::extendHeld(const std::string& holder,
                                                  const LeaseClock& clock) {
  std::vector<std::int64_t> held;
  for (std::int64_t after = std::numeric_limits<std::int64_t>::min();;) {
    std::vector<std::int64_t> extended;
    leaseWrite([&](SqlTransaction& tx) {
      extended = extendLeases(tx, holder, clock, after, leaseSlice_);
    });
    if (extended.empty()) break;
    after = *std::max_element(extended.begin(), extended.end());
    held.insert(held.end(), extended.begin(), extended.end());
    if (extended.size() < leaseSlice_) break;
  }
  std::sort(held.begin(), held.end());
  return held;
}

void StoreWriter::evenOut(const std::string& holder, const LeaseClock& clock, std::int64_t targets,
                          std::vector<std::int64_t>& held) {
  const LeaseBalance balance = balanceLeases(held.size(), targets, clock.live);
  if (balance.release > 0) {
    // The highest ids go, as they always did.
    const std::vector<std::int64_t> excess(held.end() - static_cast<long>(balance.release),
                                           held.end());
    for (const auto& range : sliceIds(excess, leaseSlice_))
      leaseWrite([&](SqlTransaction& tx) { releaseLeaseRange(tx, holder, range); });
    held.resize(held.size() - balance.release);
  }
  if (balance.take == 0) return;
  std::vector<std::int64_t> free;
  read(ReadKind::Snapshot, [&](SqlTransaction& tx) {
    free = freeTargets(tx, clock.now, balance.take);
    tx.commit();
  });
  for (const auto& range : sliceIds(free, leaseSlice_)) {
    leaseWrite([&](SqlTransaction& tx) {
      const auto taken = takeFreeTargets(tx, holder, clock, range);
      held.insert(held.end(), taken.begin(), taken.end());
    });
  }
  std::sort(held.begin(), held.end());
  held.erase(std::unique(held.begin(), held.end()), held.end());
}

std::vector<std::int64_t> StoreWriter::claimLeases(const std::string& holder,
                                                   const std::vector<std::int64_t>& targetIds,
                                                   std::chrono::milliseconds ttl) {
  requireWritable();
  std::vector<std::int64_t> ids = targetIds;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return inTransaction(WriteKind::LeaseRenewal, [&](SqlTransaction& tx) {
    auto claimed = claimTargets(tx, holder, ids, ttl);
    tx.commit();
    return claimed;
  });
}

void StoreWriter::setLeaseSlice(std::size_t rows) {
  leaseSlice_ = std::max<std::size_t>(1, rows);
}

void StoreWriter::releaseLeases(const std::string& holder) {
  requireWritable();
  inTransaction(WriteKind::LeaseRelease, [&](SqlTransaction& tx) {
    releaseAllLeases(tx, holder);
    tx.commit();
  });
}

void StoreWriter::reportProxy(const ProxyReport& report) {
  // No requireWritable(): the proxy opens the store ReadOnly, and this row is its one write.
  inTransaction(WriteKind::Heartbeat, [&](SqlTransaction& tx) {
    writeProxyReport(tx, report);
    tx.commit();
  });
}

}  // namespace portico
