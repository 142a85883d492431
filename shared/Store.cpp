#include "Store.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <chrono>
#include <type_traits>

#include "Errors.h"
#include "Sqlite.h"
#include "SqliteReaders.h"

namespace portico {
namespace {

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
// How long a statement waits for another connection's lock before failing with StoreBusy:
// long enough to ride out a checkpoint or an operator's short sqlite3 session, short enough
// that an admin request answers well within a client's usual timeout.
constexpr int kBusyTimeoutMs = 5000;

void insertTargets(SqliteConnection& conn, std::int64_t routeId,
                   const std::vector<std::string>& urls, int* added) {
  SqliteStatement st(conn.get(),
                     "INSERT OR IGNORE INTO targets (route_id, url, healthy) VALUES (?, ?, 1)");
  for (const auto& url : urls) {
    st.bind(1, routeId).bind(2, url);
    st.step();
    if (added) *added += sqlite3_changes(conn.get());
    st.reset();
  }
}

std::optional<std::int64_t> routeId(SqliteConnection& conn, const std::string& prefix) {
  SqliteStatement st(conn.get(), "SELECT id FROM routes WHERE prefix = ?");
  st.bind(1, prefix);
  if (!st.step()) return std::nullopt;
  return st.columnInt(0);
}

std::int64_t insertRoute(SqliteConnection& conn, const RouteSpec& spec) {
  SqliteStatement st(
      conn.get(),
      "INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms, "
      "health_type, health_path, health_fall, health_rise) VALUES (?,?,?,?,?,?,?,?)");
  st.bind(1, spec.prefix)
      .bind(2, toString(spec.balancer))
      .bind(3, static_cast<std::int64_t>(spec.health.interval.count()))
      .bind(4, static_cast<std::int64_t>(spec.health.timeout.count()))
      .bind(5, toString(spec.health.type))
      .bind(6, spec.health.path)
      .bind(7, spec.health.fall)
      .bind(8, spec.health.rise);
  st.step();
  const std::int64_t id = sqlite3_last_insert_rowid(conn.get());
  insertTargets(conn, id, spec.targets, nullptr);
  return id;
}

/// Throws StoreError when this process cannot write the store: the sidecar would otherwise
/// start, say it listens, and fail every change with a 500.
void checkCanWrite(SqliteConnection& conn) {
  if (sqlite3_db_readonly(conn.get(), "main") == 1)
    throw StoreError(
        "cannot write the store: the file is read-only for this process (check the owner and "
        "permissions of the file and of its directory)");
  try {
    // A write, rolled back: finds what the open flags do not (a read-only directory, a lock).
    SqliteTransaction tx(conn, SqliteTransaction::Kind::Immediate);
    conn.exec("UPDATE revision SET value = value WHERE id = 1");
  } catch (const StoreBusy&) {
    throw;
  } catch (const StoreError& e) {
    throw StoreError(std::string("cannot write the store: ") + e.what());
  }
}

}  // namespace

Store::Store(const std::string& path, Access access, const std::vector<Migration>& migrations)
    : access_(access) {
  const bool writable = access == Access::ReadWrite;
  if (writable) {
    const Poco::Path parent = Poco::Path(path).parent();
    if (!parent.toString().empty()) Poco::File(parent).createDirectories();
  } else if (!Poco::File(path).exists()) {
    throw StoreNotReady("store '" + path +
                        "' does not exist yet; start portico-sidecar to create it");
  }
  // The proxy opens read-write but sets query_only: a read-only open of a WAL database
  // fails when its -shm file is absent, and query_only still makes every write an error.
  conn_ = std::make_unique<SqliteConnection>(
      path, SQLITE_OPEN_READWRITE | (writable ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(conn_->get(), kBusyTimeoutMs);
  conn_->exec("PRAGMA foreign_keys = ON");
  if (writable) {
    conn_->exec("PRAGMA journal_mode = WAL");
    conn_->exec("PRAGMA synchronous = FULL");
  }
  migrate(*conn_, migrations, writable);
  if (writable) checkCanWrite(*conn_);
  if (!writable) conn_->exec("PRAGMA query_only = ON");
  readers_ = std::make_unique<SqliteReaders>(path, kBusyTimeoutMs);
}

Store::~Store() = default;

int Store::checkSchema(const std::string& path, const std::vector<Migration>& migrations) {
  if (!Poco::File(path).exists()) return -1;
  // immutable: SQLite takes no lock and creates no -shm or -wal file; the header (where the
  // schema version lives) is read from the main file, which every migration's commit reaches
  // once the writer checkpoints.
  const std::string uri = "file:" + path + "?immutable=1";
  SqliteConnection conn(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX);
  std::int64_t version = 0;
  try {
    version = conn.queryInt("PRAGMA user_version");
    // Reading the schema proves it is an SQLite database at all.
    conn.queryInt("SELECT count(*) FROM sqlite_master");
  } catch (const StoreError& e) {
    throw StoreError(std::string("not a usable store: ") + e.what());
  }
  const auto known = static_cast<std::int64_t>(migrations.size());
  if (version > known)
    throw StoreError("store schema version " + std::to_string(version) +
                     " is newer than this binary knows (" + std::to_string(known) +
                     "); run a newer Portico");
  return static_cast<int>(version);
}

template <typename F>
auto Store::timedWrite(F&& body) -> decltype(body()) {
  const auto start = std::chrono::steady_clock::now();
  const auto report = [&] {
    if (observer_)
      observer_->written(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      report();
    } else {
      auto result = body();
      report();
      return result;
    }
  } catch (const StoreBusy&) {
    if (observer_) observer_->busy();
    throw;
  }
}

void Store::requireWritable() const {
  if (access_ != Access::ReadWrite) throw StoreError("store opened read-only");
}

int Store::schemaVersion() {
  auto reader = readers_->acquire();
  return static_cast<int>(reader->queryInt("PRAGMA user_version"));
}

std::int64_t Store::revision() {
  auto reader = readers_->acquire();
  return reader->queryInt("SELECT value FROM revision WHERE id = 1");
}

void Store::bumpRevision() {
  conn_->exec("UPDATE revision SET value = value + 1 WHERE id = 1");
}

std::vector<RouteRecord> Store::loadRoutesLocked(SqliteConnection& conn, const std::string& where,
                                                 const std::string& arg) {
  std::vector<RouteRecord> routes;
  {
    SqliteStatement st(
        conn.get(),
        "SELECT id, prefix, balancer, health_interval_ms, health_timeout_ms, health_type, "
        "health_path, health_fall, health_rise FROM routes " +
            where + " ORDER BY prefix");
    if (!where.empty()) st.bind(1, arg);
    while (st.step()) {
      RouteRecord r;
      r.id = st.columnInt(0);
      r.prefix = st.columnText(1);
      r.balancer = parseBalancer(st.columnText(2));
      r.health.interval = std::chrono::milliseconds(st.columnInt(3));
      r.health.timeout = std::chrono::milliseconds(st.columnInt(4));
      r.health.type = parseProbeType(st.columnText(5));
      r.health.path = st.columnText(6);
      r.health.fall = static_cast<int>(st.columnInt(7));
      r.health.rise = static_cast<int>(st.columnInt(8));
      routes.push_back(std::move(r));
    }
  }
  SqliteStatement st(
      conn.get(),
      "SELECT id, url, healthy, COALESCE(last_checked_at, ''), COALESCE(last_changed_at, ''), "
      "COALESCE(last_error, '') FROM targets WHERE route_id = ? ORDER BY id");
  for (auto& r : routes) {
    st.bind(1, r.id);
    while (st.step()) {
      TargetRecord t;
      t.id = st.columnInt(0);
      t.url = st.columnText(1);
      t.healthy = st.columnInt(2) != 0;
      t.lastCheckedAt = st.columnText(3);
      t.lastChangedAt = st.columnText(4);
      t.lastError = st.columnText(5);
      r.targets.push_back(std::move(t));
    }
    st.reset();
  }
  return routes;
}

std::vector<RouteRecord> Store::loadRoutes() {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "", "");
  tx.commit();
  return routes;
}

std::optional<RouteRecord> Store::findRoute(const std::string& prefix) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "WHERE prefix = ?", prefix);
  tx.commit();
  if (routes.empty()) return std::nullopt;
  return std::move(routes.front());
}

RouteRecord Store::createRoute(const RouteSpec& spec) {
  requireWritable();
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    if (routeId(*conn_, spec.prefix)) throw Conflict("route " + spec.prefix + " already exists");
    insertRoute(*conn_, spec);
    bumpRevision();
    auto routes = loadRoutesLocked(*conn_, "WHERE prefix = ?", spec.prefix);
    tx.commit();
    return std::move(routes.front());
  });
}

void Store::deleteRoute(const std::string& prefix) {
  requireWritable();
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    SqliteStatement st(conn_->get(), "DELETE FROM routes WHERE prefix = ?");
    st.bind(1, prefix);
    st.step();
    if (sqlite3_changes(conn_->get()) == 0) throw NotFound("route " + prefix + " not found");
    bumpRevision();
    tx.commit();
  });
}

int Store::addTargets(const std::string& prefix, const std::vector<std::string>& urls,
                      const std::optional<HealthSpec>& health) {
  requireWritable();
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    const auto id = routeId(*conn_, prefix);
    if (!id) throw NotFound("route " + prefix + " not found");
    int added = 0;
    insertTargets(*conn_, *id, urls, &added);
    bool changed = added > 0;
    if (health) {
      SqliteStatement st(
          conn_->get(),
          "UPDATE routes SET health_interval_ms = ?, health_timeout_ms = ?, health_type = ?, "
          "health_path = ?, health_fall = ?, health_rise = ? WHERE id = ? AND NOT "
          "(health_interval_ms = ?1 AND health_timeout_ms = ?2 AND health_type = ?3 AND "
          "health_path = ?4 AND health_fall = ?5 AND health_rise = ?6)");
      st.bind(1, static_cast<std::int64_t>(health->interval.count()))
          .bind(2, static_cast<std::int64_t>(health->timeout.count()))
          .bind(3, toString(health->type))
          .bind(4, health->path)
          .bind(5, health->fall)
          .bind(6, health->rise)
          .bind(7, *id);
      st.step();
      changed = changed || sqlite3_changes(conn_->get()) > 0;
    }
    if (changed) bumpRevision();
    tx.commit();
    return added;
  });
}

int Store::removeTargets(const std::string& prefix, const std::vector<std::string>& urls) {
  requireWritable();
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    const auto id = routeId(*conn_, prefix);
    if (!id) throw NotFound("route " + prefix + " not found");
    int removed = 0;
    SqliteStatement st(conn_->get(), "DELETE FROM targets WHERE route_id = ? AND url = ?");
    for (const auto& url : urls) {
      st.bind(1, *id).bind(2, url);
      st.step();
      removed += sqlite3_changes(conn_->get());
      st.reset();
    }
    if (removed > 0) bumpRevision();
    tx.commit();
    return removed;
  });
}

std::vector<std::string> Store::seed(const std::vector<RouteSpec>& routes) {
  requireWritable();
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    std::vector<std::string> created;
    SqliteStatement seeded(conn_->get(), "INSERT OR IGNORE INTO config_seeds (prefix) VALUES (?)");
    for (const auto& spec : routes) {
      seeded.bind(1, spec.prefix);
      seeded.step();
      const bool firstSeed = sqlite3_changes(conn_->get()) > 0;
      seeded.reset();
      if (firstSeed && !routeId(*conn_, spec.prefix)) {
        insertRoute(*conn_, spec);
        created.push_back(spec.prefix);
      }
    }
    if (!created.empty()) bumpRevision();
    tx.commit();
    return created;
  });
}

bool Store::recordVerdict(std::int64_t targetId, bool healthy, const std::string& error) {
  requireWritable();
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    SqliteStatement st(
        conn_->get(),
        std::string("UPDATE targets SET healthy = ?, last_error = ?, last_changed_at = ") + kNow +
            ", last_checked_at = " + kNow + " WHERE id = ? AND healthy != ?1");
    st.bind(1, healthy ? 1 : 0);
    if (error.empty()) {
      st.bindNull(2);
    } else {
      st.bind(2, error);
    }
    st.bind(3, targetId);
    st.step();
    const bool changed = sqlite3_changes(conn_->get()) > 0;
    if (changed) bumpRevision();
    tx.commit();
    return changed;
  });
}

void Store::recordChecked(const std::vector<std::int64_t>& targetIds) {
  requireWritable();
  return timedWrite([&] {
    if (targetIds.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    SqliteStatement st(conn_->get(), std::string("UPDATE targets SET last_checked_at = ") + kNow +
                                         " WHERE id = ?");
    for (auto id : targetIds) {
      st.bind(1, id);
      st.step();
      st.reset();
    }
    tx.commit();
  });
}

}  // namespace portico
