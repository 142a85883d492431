#include "store/postgres/PostgresStore.h"

#include <map>
#include <set>
#include <type_traits>

#include "base/Errors.h"
#include "model/ModelJson.h"

namespace portico {
namespace {

// pg_advisory_xact_lock keys: schema upgrades, and lease renewals (whose counts of live
// sidecars and free targets must not interleave).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7370616901)";
constexpr const char* kLeaseLock = "SELECT pg_advisory_xact_lock(7370616902)";
constexpr const char* kReadSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

std::string num(std::int64_t n) {
  return std::to_string(n);
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

std::optional<std::string> textOrNull(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

/// The schema version, or -1 when the database has no Portico schema at all.
int schemaVersionOf(PgConnection& conn) {
  const auto exists = conn.exec("SELECT to_regclass('portico_schema') IS NOT NULL");
  if (exists.text(0, 0) != "t") return -1;
  return static_cast<int>(conn.queryInt("SELECT version FROM portico_schema WHERE id = 1"));
}

void refuseNewer(int version, int known) {
  if (version > known)
    throw StoreError("store schema version " + std::to_string(version) +
                     " is newer than this binary knows (" + std::to_string(known) +
                     "); run a newer Portico");
}

/// Brings the schema to `all`, under an advisory lock so that sidecars starting together
/// upgrade once; every step and the version commit together.
int migrate(PgConnection& conn, const std::vector<Migration>& all, bool mayUpgrade) {
  const int known = static_cast<int>(all.size());
  int version = schemaVersionOf(conn);
  refuseNewer(version, known);
  if (version == known) return version;
  if (!mayUpgrade) {
    if (version < 0)
      throw StoreNotReady(
          "the database has no Portico schema yet; start portico-sidecar to create it");
    throw StoreNotReady("store schema version " + std::to_string(version) + " is older than " +
                        std::to_string(known) + "; start portico-sidecar to upgrade it");
  }
  PgTransaction tx(conn);
  conn.exec(kMigrationLock);
  conn.exec(
      "CREATE TABLE IF NOT EXISTS portico_schema (id INTEGER PRIMARY KEY CHECK (id = 1), "
      "version INTEGER NOT NULL)");
  conn.exec("INSERT INTO portico_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING");
  version = static_cast<int>(conn.queryInt("SELECT version FROM portico_schema WHERE id = 1"));
  refuseNewer(version, known);  // another sidecar, newer than this one, got there first
  for (int v = version; v < known; ++v) {
    try {
      conn.exec(all[static_cast<std::size_t>(v)].sql);
    } catch (const StoreUnavailable&) {
      throw;
    } catch (const StoreError& e) {
      throw StoreError(std::string("migration ") + all[static_cast<std::size_t>(v)].name +
                       " failed: " + e.what());
    }
  }
  conn.exec("UPDATE portico_schema SET version = $1 WHERE id = 1", {num(known)});
  tx.commit();
  return known;
}

constexpr const char* kRouteColumns =
    "SELECT id, prefix, balancer, health_interval_ms, health_timeout_ms, health_type, "
    "health_path, health_fall, health_rise, slow_start_ms FROM routes ";
constexpr const char* kTargetColumns =
    "SELECT t.route_id, t.id, t.url, t.healthy, COALESCE(t.last_checked_at, ''), "
    "COALESCE(t.last_changed_at, ''), COALESCE(t.last_error, ''), t.weight, t.state, "
    "COALESCE(t.serving_since, ''), COALESCE(t.modified_at, ''), COALESCE(l.holder, '') FROM "
    "targets t LEFT JOIN health_leases l ON l.target_id = t.id AND l.expires_at > "
    "portico_now_ms() ";

/// Every route (or the one with `prefix`) with its targets, on `conn` within the caller's
/// transaction: two queries, however many routes.
std::vector<RouteRecord> loadRoutesOn(PgConnection& conn,
                                      const std::optional<std::string>& prefix) {
  std::vector<RouteRecord> routes;
  const auto r = prefix ? conn.exec(std::string(kRouteColumns) + "WHERE prefix = $1", {*prefix})
                        : conn.exec(std::string(kRouteColumns) + "ORDER BY prefix");
  std::map<std::int64_t, std::size_t> index;
  for (int i = 0; i < r.rows(); ++i) {
    RouteRecord route;
    route.id = r.integer(i, 0);
    route.prefix = r.text(i, 1);
    route.balancer = parseBalancer(r.text(i, 2));
    route.health.interval = std::chrono::milliseconds(r.integer(i, 3));
    route.health.timeout = std::chrono::milliseconds(r.integer(i, 4));
    route.health.type = parseProbeType(r.text(i, 5));
    route.health.path = r.text(i, 6);
    route.health.fall = static_cast<int>(r.integer(i, 7));
    route.health.rise = static_cast<int>(r.integer(i, 8));
    route.health.slowStart = std::chrono::milliseconds(r.integer(i, 9));
    index[route.id] = routes.size();
    routes.push_back(std::move(route));
  }
  if (routes.empty()) return routes;
  const auto t =
      prefix ? conn.exec(std::string(kTargetColumns) + "WHERE t.route_id = $1 ORDER BY t.id",
                         {num(routes.front().id)})
             : conn.exec(std::string(kTargetColumns) + "ORDER BY t.route_id, t.id");
  for (int i = 0; i < t.rows(); ++i) {
    const auto found = index.find(t.integer(i, 0));
    if (found == index.end()) continue;
    TargetRecord target;
    target.id = t.integer(i, 1);
    target.url = t.text(i, 2);
    target.healthy = t.integer(i, 3) != 0;
    target.lastCheckedAt = t.text(i, 4);
    target.lastChangedAt = t.text(i, 5);
    target.lastError = t.text(i, 6);
    target.weight = static_cast<int>(t.integer(i, 7));
    target.state = parseServingState(t.text(i, 8));
    target.servingSince = t.text(i, 9);
    target.modifiedAt = t.text(i, 10);
    target.checkedBy = t.text(i, 11);
    routes[found->second].targets.push_back(std::move(target));
  }
  return routes;
}

std::int64_t insertRoute(PgConnection& conn, const RouteSpec& spec) {
  return conn.queryInt(
      "INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms, health_type, "
      "health_path, health_fall, health_rise, slow_start_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, "
      "$8, $9) RETURNING id",
      {spec.prefix, toString(spec.balancer), num(spec.health.interval.count()),
       num(spec.health.timeout.count()), toString(spec.health.type), spec.health.path,
       num(spec.health.fall), num(spec.health.rise), num(spec.health.slowStart.count())});
}

constexpr const char* kChangeColumns =
    "SELECT revision, time, actor, COALESCE(client, ''), action, route, COALESCE(target, ''), "
    "COALESCE(before, ''), COALESCE(after, '') FROM changes ";

/// Reads change rows; `where` uses $1 for the revision, then the query's filters.
std::vector<ChangeRecord> readChanges(PgConnection& conn, const std::string& where,
                                      const std::string& order, std::int64_t revision,
                                      const ChangeQuery& query) {
  std::string sql = std::string(kChangeColumns) + where;
  PgParams params{num(revision)};
  if (!query.route.empty()) {
    params.push_back(query.route);
    sql += " AND route = $" + std::to_string(params.size());
  }
  if (!query.target.empty()) {
    params.push_back(query.target);
    sql += " AND target = $" + std::to_string(params.size());
  }
  const auto r = conn.exec(sql + order, params);
  std::vector<ChangeRecord> rows;
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    ChangeRecord c;
    c.revision = r.integer(i, 0);
    c.time = r.text(i, 1);
    c.actor = r.text(i, 2);
    c.client = r.text(i, 3);
    c.action = r.text(i, 4);
    c.route = r.text(i, 5);
    c.target = r.text(i, 6);
    c.before = r.text(i, 7);
    c.after = r.text(i, 8);
    rows.push_back(std::move(c));
  }
  return rows;
}

}  // namespace

/// One write transaction: locks the revision row (serialising writers across sidecars),
/// checks the writer's If-Match against it, collects the history rows of what it changes and,
/// when there are any, bumps the revision, writes them and announces the change before
/// committing.
class PostgresStore::Write {
 public:
  Write(PostgresStore& store, PgConnection& conn, const WriteContext& who)
      : store_(store),
        conn_(conn),
        tx_(conn),
        revision_(conn.queryInt("SELECT value FROM revision WHERE id = 1 FOR UPDATE")),
        now_(conn.exec("SELECT portico_now()").text(0, 0)),
        log_(who, now_) {
    if (!who.ifMatch.matches(revision_))
      throw PreconditionFailed("the store is at revision " + std::to_string(revision_) +
                                   ", not at the one If-Match names (" + who.ifMatch.text() +
                                   "); nothing was changed: read it again and retry",
                               revision_);
  }

  PgConnection& conn() { return conn_; }
  ChangeLog& log() { return log_; }
  const std::string& now() const { return now_; }

  std::int64_t commit() {
    if (!log_.empty()) {
      conn_.exec("UPDATE revision SET value = value + 1 WHERE id = 1");
      ++revision_;
      const auto& who = log_.who();
      for (const auto& row : log_.rows()) {
        conn_.exec(
            "INSERT INTO changes (revision, time, actor, client, action, route, target, before, "
            "after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            {num(revision_), now_, who.actor, textOrNull(who.client), row.action, row.route,
             textOrNull(row.target), textOrNull(row.before), textOrNull(row.after)});
      }
      // Ids only grow and only the oldest go: the newest `limit` rows are those above
      // max(id) - limit, one index range however large the table.
      conn_.exec("DELETE FROM changes WHERE id <= (SELECT MAX(id) FROM changes) - $1",
                 {num(store_.historyLimit_.load())});
      conn_.exec("SELECT pg_notify($1, $2)", {std::string(kChannel), num(revision_)});
    }
    tx_.commit();
    return revision_;
  }

  int insertTargets(std::int64_t routeId, const std::string& prefix,
                    const std::vector<TargetSpec>& targets) {
    int added = 0;
    for (const auto& t : targets) {
      requireWeight(t.weight);
      const auto r = conn_.exec(
          "INSERT INTO targets (route_id, url, healthy, weight, serving_since, modified_at) "
          "VALUES ($1, $2, 1, $3, $4, $4) ON CONFLICT (route_id, url) DO NOTHING",
          {num(routeId), t.url, num(t.weight), now_});
      if (r.affected() == 0) continue;
      ++added;
      TargetRecord fresh;
      fresh.weight = t.weight;
      log_.add("target.add", prefix, t.url, nullptr, ChangeLog::targetJson(fresh));
    }
    return added;
  }

 private:
  PostgresStore& store_;
  PgConnection& conn_;
  PgTransaction tx_;
  std::int64_t revision_;
  std::string now_;
  ChangeLog log_;
};

PostgresStore::PostgresStore(const std::string& url, Access access,
                             const std::vector<Migration>& migrations)
    : pool_(url, access == Access::ReadOnly), access_(access) {
  auto conn = pool_.acquire();
  migrate(*conn, migrations, access == Access::ReadWrite);
}

PostgresStore::~PostgresStore() = default;

int PostgresStore::checkSchema(const std::string& url, const std::vector<Migration>& migrations) {
  PgConnection conn(url, true);
  const int version = schemaVersionOf(conn);
  refuseNewer(version, static_cast<int>(migrations.size()));
  return version;
}

template <typename F>
auto PostgresStore::withConnection(F&& body) -> decltype(body(std::declval<PgConnection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto conn = pool_.acquire();
    try {
      return body(*conn);
    } catch (const StoreUnavailable&) {
      pool_.discardIdle();
      // A connection idle since before a server restart fails on first use: once more on a
      // new one, unless the change may have committed.
      if (attempt > 0 || !conn.reused() || conn->commitSent()) throw;
    }
  }
}

template <typename F>
auto PostgresStore::timedWrite(F&& body) -> decltype(body(std::declval<PgConnection&>())) {
  requireWritable();
  const auto start = std::chrono::steady_clock::now();
  const auto report = [&] {
    if (observer_)
      observer_->written(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  try {
    if constexpr (std::is_void_v<decltype(body(std::declval<PgConnection&>()))>) {
      withConnection(body);
      report();
    } else {
      auto result = withConnection(body);
      report();
      return result;
    }
  } catch (const StoreBusy&) {
    if (observer_) observer_->busy();
    throw;
  }
}

void PostgresStore::requireWritable() const {
  if (access_ != Access::ReadWrite) throw StoreError("store opened read-only");
}

void PostgresStore::setHistoryLimit(std::int64_t rows) {
  if (rows < 1) throw InvalidInput("the history limit must be at least 1 row");
  historyLimit_ = rows;
}

int PostgresStore::schemaVersion() {
  return withConnection([](PgConnection& conn) { return schemaVersionOf(conn); });
}

std::int64_t PostgresStore::revision() {
  return withConnection(
      [](PgConnection& conn) { return conn.queryInt("SELECT value FROM revision WHERE id = 1"); });
}

std::vector<RouteRecord> PostgresStore::loadRoutes(std::int64_t* revision) {
  return withConnection([&](PgConnection& conn) {
    PgTransaction tx(conn, kReadSnapshot);
    auto routes = loadRoutesOn(conn, std::nullopt);
    if (revision) *revision = conn.queryInt("SELECT value FROM revision WHERE id = 1");
    tx.commit();
    return routes;
  });
}

RouteChanges PostgresStore::routesChangedSince(std::int64_t since) {
  return withConnection([&](PgConnection& conn) {
    PgTransaction tx(conn, kReadSnapshot);
    RouteChanges changes;
    changes.revision = conn.queryInt("SELECT value FROM revision WHERE id = 1");
    if (since == changes.revision) {
      tx.commit();
      return changes;
    }
    // Writers commit in revision order and history ids grow with it, the oldest trimmed
    // first: when the oldest row kept is at or below `since`, every row after it is there.
    bool reaches = since >= 0 && since < changes.revision;
    if (reaches) {
      const auto oldest = conn.queryInt("SELECT COALESCE(MIN(revision), -1) FROM changes");
      reaches = oldest >= 0 && oldest <= since;
    }
    if (!reaches) {
      changes.complete = false;
      changes.routes = loadRoutesOn(conn, std::nullopt);
      tx.commit();
      return changes;
    }
    const auto touched = conn.exec(
        "SELECT DISTINCT route FROM changes WHERE revision > $1 ORDER BY route", {num(since)});
    for (int i = 0; i < touched.rows(); ++i) {
      const std::string prefix = touched.text(i, 0);
      auto found = loadRoutesOn(conn, prefix);
      if (found.empty()) {
        changes.removed.push_back(prefix);
      } else {
        changes.routes.push_back(std::move(found.front()));
      }
    }
    tx.commit();
    return changes;
  });
}

std::vector<RouteRecord> PostgresStore::loadRoutePage(const std::string& after, std::size_t limit,
                                                      std::int64_t* revision) {
  return withConnection([&](PgConnection& conn) {
    PgTransaction tx(conn, kReadSnapshot);
    // Byte order, as SQLite sorts, whatever the database's collation.
    const auto page = conn.exec(
        "SELECT prefix FROM routes WHERE prefix COLLATE \"C\" > $1 ORDER BY prefix COLLATE \"C\"" +
            (limit > 0 ? " LIMIT " + num(static_cast<std::int64_t>(limit)) : std::string()),
        {after});
    std::vector<RouteRecord> routes;
    for (int i = 0; i < page.rows(); ++i) {
      auto found = loadRoutesOn(conn, page.text(i, 0));
      if (!found.empty()) routes.push_back(std::move(found.front()));
    }
    if (revision) *revision = conn.queryInt("SELECT value FROM revision WHERE id = 1");
    tx.commit();
    return routes;
  });
}

std::optional<RouteRecord> PostgresStore::findRoute(const std::string& prefix,
                                                    std::int64_t* revision) {
  return withConnection([&](PgConnection& conn) -> std::optional<RouteRecord> {
    PgTransaction tx(conn, kReadSnapshot);
    auto routes = loadRoutesOn(conn, prefix);
    if (revision) *revision = conn.queryInt("SELECT value FROM revision WHERE id = 1");
    tx.commit();
    if (routes.empty()) return std::nullopt;
    return std::move(routes.front());
  });
}

ChangePage PostgresStore::changes(const ChangeQuery& query, std::int64_t* revision) {
  return withConnection([&](PgConnection& conn) {
    PgTransaction tx(conn, kReadSnapshot);
    const std::int64_t current = conn.queryInt("SELECT value FROM revision WHERE id = 1");
    ChangePage page;
    page.changes = readChanges(
        conn, "WHERE revision > $1",
        " ORDER BY revision, id LIMIT " + num(static_cast<std::int64_t>(query.limit) + 1),
        query.since, query);
    const auto limit = static_cast<std::size_t>(query.limit);
    if (page.changes.size() <= limit) {
      // Everything up to the revision this read sees has been read (writers commit revisions
      // in order).
      page.nextSince = current;
    } else {
      // Full page: end it at a revision boundary, so the next page neither repeats nor skips.
      const std::int64_t cut = page.changes[limit].revision;
      while (!page.changes.empty() && page.changes.back().revision == cut) page.changes.pop_back();
      if (page.changes.empty())
        page.changes = readChanges(conn, "WHERE revision = $1", " ORDER BY id", cut, query);
      page.nextSince = page.changes.back().revision;
    }
    if (revision) *revision = current;
    tx.commit();
    return page;
  });
}

RouteRecord PostgresStore::createRoute(const RouteSpec& spec, const WriteContext& who,
                                       std::int64_t* revision) {
  return timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, who);
    if (w.conn().exec("SELECT 1 FROM routes WHERE prefix = $1", {spec.prefix}).rows() > 0)
      throw Conflict("route " + spec.prefix + " already exists");
    const std::int64_t id = insertRoute(w.conn(), spec);
    w.log().add("route.create", spec.prefix, "", nullptr,
                ChangeLog::routeJson(toString(spec.balancer), spec.health));
    w.insertTargets(id, spec.prefix, spec.targets);
    auto routes = loadRoutesOn(w.conn(), spec.prefix);
    const auto after = w.commit();
    if (revision) *revision = after;
    return std::move(routes.front());
  });
}

void PostgresStore::deleteRoute(const std::string& prefix, const WriteContext& who,
                                std::int64_t* revision) {
  timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, who);
    const auto routes = loadRoutesOn(w.conn(), prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    const RouteRecord& route = routes.front();
    w.conn().exec("DELETE FROM routes WHERE id = $1", {num(route.id)});
    for (const auto& t : route.targets)
      w.log().add("target.remove", prefix, t.url, ChangeLog::targetJson(t), nullptr);
    w.log().add("route.delete", prefix, "",
                ChangeLog::routeJson(toString(route.balancer), route.health), nullptr);
    const auto after = w.commit();
    if (revision) *revision = after;
  });
}

int PostgresStore::addTargets(const std::string& prefix, const std::vector<TargetSpec>& targets,
                              const std::optional<HealthSpec>& health, const WriteContext& who,
                              std::int64_t* revision) {
  return timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, who);
    const auto routes = loadRoutesOn(w.conn(), prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    const RouteRecord& route = routes.front();
    const int added = w.insertTargets(route.id, prefix, targets);
    if (health && !(*health == route.health)) {
      w.conn().exec(
          "UPDATE routes SET health_interval_ms = $1, health_timeout_ms = $2, health_type = $3, "
          "health_path = $4, health_fall = $5, health_rise = $6, slow_start_ms = $7 WHERE id = "
          "$8",
          {num(health->interval.count()), num(health->timeout.count()), toString(health->type),
           health->path, num(health->fall), num(health->rise), num(health->slowStart.count()),
           num(route.id)});
      w.log().add("route.health_check", prefix, "", healthCheckJson(route.health),
                  healthCheckJson(*health));
    }
    const auto after = w.commit();
    if (revision) *revision = after;
    return added;
  });
}

int PostgresStore::removeTargets(const std::string& prefix, const std::vector<std::string>& urls,
                                 const WriteContext& who, std::int64_t* revision) {
  return timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, who);
    const auto routes = loadRoutesOn(w.conn(), prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    int removed = 0;
    std::set<std::int64_t> gone;
    for (const auto& url : urls) {
      for (const auto& t : routes.front().targets) {
        if (t.url != url || !gone.insert(t.id).second) continue;
        w.conn().exec("DELETE FROM targets WHERE id = $1", {num(t.id)});
        ++removed;
        w.log().add("target.remove", prefix, url, ChangeLog::targetJson(t), nullptr);
        break;
      }
    }
    const auto after = w.commit();
    if (revision) *revision = after;
    return removed;
  });
}

TargetRecord PostgresStore::updateTarget(const std::string& prefix, const std::string& url,
                                         const TargetUpdate& update, const WriteContext& who,
                                         std::int64_t* revision) {
  requireWritable();
  if (update.weight) requireWeight(*update.weight);
  return timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, who);
    const auto routes = loadRoutesOn(w.conn(), prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    const TargetRecord* found = nullptr;
    for (const auto& t : routes.front().targets) {
      if (t.url == url) found = &t;
    }
    if (!found) throw NotFound("target " + url + " not found on route " + prefix);
    const TargetRecord& before = *found;
    if (update.weight && *update.weight != before.weight) {
      w.conn().exec("UPDATE targets SET weight = $1, modified_at = $2 WHERE id = $3",
                    {num(*update.weight), w.now(), num(before.id)});
      w.log().add("target.weight", prefix, url, one("weight", before.weight),
                  one("weight", *update.weight));
    }
    if (update.state && *update.state != before.state) {
      // Back in rotation: slow start ramps from now.
      const bool resumes = *update.state == ServingState::Active;
      w.conn().exec(
          "UPDATE targets SET state = $1, modified_at = $2, serving_since = CASE WHEN $3 THEN "
          "$2 ELSE serving_since END WHERE id = $4",
          {toString(*update.state), w.now(), std::string(resumes ? "true" : "false"),
           num(before.id)});
      w.log().add("target.state", prefix, url, one("state", toString(before.state)),
                  one("state", toString(*update.state)));
    }
    TargetRecord result;
    auto after = loadRoutesOn(w.conn(), prefix);
    for (auto& t : after.front().targets) {
      if (t.id == before.id) result = std::move(t);
    }
    const auto committed = w.commit();
    if (revision) *revision = committed;
    return result;
  });
}

std::vector<std::string> PostgresStore::seed(const std::vector<RouteSpec>& routes) {
  return timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, WriteContext::config());
    std::vector<std::string> created;
    for (const auto& spec : routes) {
      const bool firstSeed =
          w.conn()
              .exec("INSERT INTO config_seeds (prefix) VALUES ($1) ON CONFLICT DO NOTHING",
                    {spec.prefix})
              .affected() > 0;
      if (firstSeed &&
          w.conn().exec("SELECT 1 FROM routes WHERE prefix = $1", {spec.prefix}).rows() == 0) {
        const std::int64_t id = insertRoute(w.conn(), spec);
        w.log().add("route.create", spec.prefix, "", nullptr,
                    ChangeLog::routeJson(toString(spec.balancer), spec.health));
        w.insertTargets(id, spec.prefix, spec.targets);
        created.push_back(spec.prefix);
      }
    }
    w.commit();
    return created;
  });
}

bool PostgresStore::recordVerdict(std::int64_t targetId, bool healthy, const std::string& error,
                                  const std::string& holder) {
  return timedWrite([&](PgConnection& conn) {
    Write w(*this, conn, WriteContext{"health", holder, {}});
    if (!holder.empty() &&
        w.conn().exec("SELECT 1 FROM health_leases WHERE target_id = $1 AND holder = $2 AND "
                      "expires_at > portico_now_ms()",
                      {num(targetId), holder})
                .rows() == 0)
      return false;
    const auto found = w.conn().exec(
        "SELECT t.url, r.prefix, t.healthy, COALESCE(t.last_error, ''), t.state FROM targets t "
        "JOIN routes r ON r.id = t.route_id WHERE t.id = $1",
        {num(targetId)});
    if (found.rows() == 0) return false;
    const std::string url = found.text(0, 0);
    const std::string prefix = found.text(0, 1);
    const bool wasHealthy = found.integer(0, 2) != 0;
    const std::string previousError = found.text(0, 3);
    if (wasHealthy == healthy || parseServingState(found.text(0, 4)) == ServingState::Disabled)
      return false;
    w.conn().exec(
        "UPDATE targets SET healthy = $1, last_error = $2, last_changed_at = $3, last_checked_at "
        "= $3, modified_at = $3, serving_since = CASE WHEN $1 = 1 THEN $3 ELSE serving_since END "
        "WHERE id = $4",
        {num(healthy ? 1 : 0), textOrNull(error), w.now(), num(targetId)});
    auto verdict = [](bool ok, const std::string& why) {
      auto o = one("healthy", ok);
      if (!ok && !why.empty()) o->set("error", why);
      return o;
    };
    w.log().add("target.health", prefix, url, verdict(wasHealthy, previousError),
                verdict(healthy, error));
    w.commit();
    return true;
  });
}

void PostgresStore::recordChecked(const std::vector<std::int64_t>& targetIds) {
  requireWritable();
  if (targetIds.empty()) return;
  std::string ids = "{";
  for (auto id : targetIds) {
    if (ids.size() > 1) ids += ',';
    ids += num(id);
  }
  ids += '}';
  timedWrite([&](PgConnection& conn) {
    PgTransaction tx(conn);
    // Bookkeeping: under another writer's row locks it gives up quickly (StoreBusy).
    conn.exec("SET LOCAL lock_timeout = '100ms'");
    conn.exec(
        "UPDATE targets SET last_checked_at = portico_now() WHERE id = ANY($1::BIGINT[]) AND "
        "state != 'disabled'",
        {ids});
    tx.commit();
  });
}

std::vector<std::int64_t> PostgresStore::renewLeases(const std::string& holder,
                                                     std::chrono::milliseconds ttl) {
  requireWritable();
  return withConnection([&](PgConnection& conn) {
    PgTransaction tx(conn);
    conn.exec(kLeaseLock);
    const std::int64_t now = conn.queryInt("SELECT portico_now_ms()");
    const std::string expires = num(now + static_cast<std::int64_t>(ttl.count()));
    conn.exec(
        "INSERT INTO sidecars (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET "
        "expires_at = EXCLUDED.expires_at",
        {holder, expires});
    conn.exec("DELETE FROM sidecars WHERE expires_at <= $1", {num(now)});
    // Expired leases, and those of targets nobody checks (disabled since they were taken).
    conn.exec(
        "DELETE FROM health_leases WHERE expires_at <= $1 OR target_id IN (SELECT id FROM "
        "targets WHERE state = 'disabled')",
        {num(now)});
    conn.exec("UPDATE health_leases SET expires_at = $1 WHERE holder = $2", {expires, holder});
    const std::int64_t live = conn.queryInt("SELECT count(*) FROM sidecars");
    const std::int64_t total =
        conn.queryInt("SELECT count(*) FROM targets WHERE state != 'disabled'");
    const std::int64_t share = live > 0 ? (total + live - 1) / live : total;
    const std::int64_t mine =
        conn.queryInt("SELECT count(*) FROM health_leases WHERE holder = $1", {holder});
    if (mine > share) {
      conn.exec(
          "DELETE FROM health_leases WHERE target_id IN (SELECT target_id FROM health_leases "
          "WHERE holder = $1 ORDER BY target_id DESC LIMIT $2)",
          {holder, num(mine - share)});
    } else if (mine < share) {
      conn.exec(
          "INSERT INTO health_leases (target_id, holder, expires_at) SELECT t.id, $1, $2 FROM "
          "targets t WHERE t.state != 'disabled' AND NOT EXISTS (SELECT 1 FROM health_leases l "
          "WHERE l.target_id = t.id) ORDER BY t.id LIMIT $3",
          {holder, expires, num(share - mine)});
    }
    const auto r = conn.exec(
        "SELECT target_id FROM health_leases WHERE holder = $1 ORDER BY target_id", {holder});
    std::vector<std::int64_t> held;
    held.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) held.push_back(r.integer(i, 0));
    tx.commit();
    return held;
  });
}

void PostgresStore::releaseLeases(const std::string& holder) {
  requireWritable();
  withConnection([&](PgConnection& conn) {
    PgTransaction tx(conn);
    conn.exec(kLeaseLock);
    conn.exec("DELETE FROM health_leases WHERE holder = $1", {holder});
    conn.exec("DELETE FROM sidecars WHERE id = $1", {holder});
    tx.commit();
  });
}

}  // namespace portico
