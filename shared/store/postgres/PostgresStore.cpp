#include "store/postgres/PostgresStore.h"

#include <map>

#include "base/Errors.h"
#include "store/ChangeHistory.h"
#include "store/SqlTransaction.h"

namespace portico {
namespace {

// pg_advisory_xact_lock keys: schema upgrades, and lease renewals (whose counts of live
// sidecars and free targets must not interleave).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7370616901)";
constexpr const char* kLeaseLock = "SELECT pg_advisory_xact_lock(7370616902)";
constexpr const char* kReadSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// What StoreWriter's SQL says in PostgreSQL: every change locks the revision row first, which
// serialises writers across sidecars.
constexpr SqlDialect kDialect{"portico_now()", "portico_now_ms()", " FOR UPDATE",
                              "id = ANY(string_to_array($1, ',')::BIGINT[])"};

std::string num(std::int64_t n) {
  return std::to_string(n);
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

}  // namespace

/// A transaction on one of the pool's connections as the SQL written once sees it
/// (SqlTransaction); inserted rows give their id with RETURNING.
class PostgresStore::Transaction final : public SqlTransaction {
 public:
  explicit Transaction(PgConnection& conn, const std::string& begin = "BEGIN")
      : conn_(conn), tx_(conn, begin) {}

  SqlRows query(const std::string& sql, const SqlParams& params) override {
    const auto r = conn_.exec(sql, native(params));
    SqlRows rows;
    for (int i = 0; i < r.rows(); ++i) {
      std::vector<std::string> row;
      for (int col = 0; col < r.columns(); ++col) row.push_back(r.text(i, col));
      rows.add(std::move(row));
    }
    return rows;
  }
  std::int64_t exec(const std::string& sql, const SqlParams& params) override {
    return conn_.exec(sql, native(params)).affected();
  }
  std::int64_t insert(const std::string& sql, const SqlParams& params) override {
    return conn_.queryInt(sql + " RETURNING id", native(params));
  }
  std::optional<RouteRecord> route(const std::string& prefix) override {
    auto routes = loadRoutesOn(conn_, prefix);
    if (routes.empty()) return std::nullopt;
    return std::move(routes.front());
  }
  std::vector<RouteRecord> routes() override { return loadRoutesOn(conn_, std::nullopt); }
  void commit() override { tx_.commit(); }

 private:
  static PgParams native(const SqlParams& params) {
    PgParams out;
    out.reserve(params.size());
    for (const auto& p : params) {
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        out.emplace_back(num(*n));
      } else if (const auto* text = std::get_if<std::string>(&p)) {
        out.emplace_back(*text);
      } else {
        out.emplace_back(std::nullopt);
      }
    }
    return out;
  }

  PgConnection& conn_;
  PgTransaction tx_;
};

PostgresStore::PostgresStore(const std::string& url, Access access,
                             const std::vector<Migration>& migrations)
    : StoreWriter(access, kDialect),
      pool_(
          [url, access] { return std::make_unique<PgConnection>(url, access == Access::ReadOnly); },
          [](PgConnection& conn) { return conn.reusable(); }) {
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

void PostgresStore::transact(WriteKind kind, const std::function<void(SqlTransaction&)>& body) {
  withConnection([&](PgConnection& conn) {
    Transaction tx(conn);
    if (kind == WriteKind::Stamp) {
      // Bookkeeping: under another writer's row locks it gives up quickly (StoreBusy).
      conn.exec("SET LOCAL lock_timeout = '100ms'");
    } else if (kind == WriteKind::LeaseRenewal || kind == WriteKind::LeaseRelease) {
      conn.exec(kLeaseLock);
    }
    body(tx);
  });
}

void PostgresStore::announce(SqlTransaction& tx, std::int64_t revision) {
  tx.query("SELECT pg_notify($1, $2)", {std::string(kChannel), num(revision)});
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
    Transaction tx(conn, kReadSnapshot);
    auto changes = readRouteChanges(tx, since);
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
    Transaction tx(conn, kReadSnapshot);
    const std::int64_t current = conn.queryInt("SELECT value FROM revision WHERE id = 1");
    auto page = readChanges(tx, query, current);
    if (revision) *revision = current;
    tx.commit();
    return page;
  });
}

}  // namespace portico
