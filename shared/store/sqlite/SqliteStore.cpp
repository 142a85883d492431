#include "store/sqlite/SqliteStore.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <cctype>
#include <chrono>
#include <map>

#include "base/Errors.h"
#include "store/ChangeHistory.h"
#include "store/ConnectionPool.h"
#include "store/SqlTransaction.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteMigrations.h"

namespace portico {
namespace {

// What StoreWriter's SQL says in SQLite. No lock on the revision row: BEGIN IMMEDIATE holds
// the file's write lock already.
constexpr SqlDialect kDialect{"strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                              "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)", "",
                              "id IN (SELECT value FROM json_each('[' || $1 || ']'))"};
// How long a statement waits for another connection's lock before failing with StoreBusy:
// long enough to ride out a checkpoint or an operator's short sqlite3 session, short enough
// that an admin request answers well within a client's usual timeout.
constexpr int kBusyTimeoutMs = 5000;
// Check-time stamps are bookkeeping: under another process's lock they give up quickly rather
// than keep this process's writer (and the API writes queued behind it) waiting 5 s a sweep.
constexpr int kStampBusyTimeoutMs = 100;

/// Sets a connection's busy timeout for a scope and puts the usual one back.
class BusyTimeout {
 public:
  BusyTimeout(SqliteConnection& conn, int ms) : conn_(conn) {
    sqlite3_busy_timeout(conn.get(), ms);
  }
  ~BusyTimeout() { sqlite3_busy_timeout(conn_.get(), kBusyTimeoutMs); }
  BusyTimeout(const BusyTimeout&) = delete;
  BusyTimeout& operator=(const BusyTimeout&) = delete;

 private:
  SqliteConnection& conn_;
};

/// A connection for reads. With WAL, a read on its own connection sees the last committed state
/// while another connection (this process's writer or another process) holds the write lock,
/// so a read waits neither for a write nor for another read; only the busy timeout bounds it.
std::unique_ptr<SqliteConnection> openReader(const std::string& path) {
  // Opened read-write but query-only: a read-only open of a WAL database fails when its -shm
  // file is absent, and query_only still makes every write an error.
  auto conn = std::make_unique<SqliteConnection>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(conn->get(), kBusyTimeoutMs);
  conn->exec("PRAGMA query_only = ON");
  return conn;
}

std::int64_t revisionOf(SqliteConnection& conn) {
  return conn.queryInt("SELECT value FROM revision WHERE id = 1");
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

/// A transaction on one of the store's connections as the SQL written once sees it
/// (SqlTransaction): its $N placeholders become SQLite's ?N, and each statement is prepared
/// once per transaction (a route's targets and history rows reuse theirs).
class SqliteStore::Transaction final : public SqlTransaction {
 public:
  Transaction(SqliteConnection& conn, SqliteTransaction::Kind kind)
      : conn_(conn), tx_(conn, kind) {}

  SqlRows query(const std::string& sql, const SqlParams& params) override {
    SqliteStatement& st = prepare(sql, params);
    SqlRows rows;
    while (st.step()) {
      std::vector<std::string> row;
      for (int col = 0; col < st.columns(); ++col) row.push_back(st.columnText(col));
      rows.add(std::move(row));
    }
    st.reset();
    return rows;
  }
  std::int64_t exec(const std::string& sql, const SqlParams& params) override {
    SqliteStatement& st = prepare(sql, params);
    while (st.step()) {
    }
    const std::int64_t changed = sqlite3_changes(conn_.get());
    st.reset();
    return changed;
  }
  std::int64_t insert(const std::string& sql, const SqlParams& params) override {
    exec(sql, params);
    return sqlite3_last_insert_rowid(conn_.get());
  }
  std::optional<RouteRecord> route(const std::string& prefix) override {
    auto routes = loadRoutesLocked(conn_, "WHERE prefix = ?", prefix);
    if (routes.empty()) return std::nullopt;
    return std::move(routes.front());
  }
  std::vector<RouteRecord> routes() override { return loadRoutesLocked(conn_, "", ""); }
  void commit() override { tx_.commit(); }

 private:
  SqliteStatement& prepare(const std::string& sql, const SqlParams& params) {
    auto& st = statements_[sql];
    if (!st) {
      std::string native = sql;
      for (std::size_t i = 0; i + 1 < native.size(); ++i) {
        if (native[i] == '$' && std::isdigit(static_cast<unsigned char>(native[i + 1])))
          native[i] = '?';
      }
      st = std::make_unique<SqliteStatement>(conn_.get(), native);
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        st->bind(index, *n);
      } else if (const auto* text = std::get_if<std::string>(&params[i])) {
        st->bind(index, *text);
      } else {
        st->bindNull(index);
      }
    }
    return *st;
  }

  SqliteConnection& conn_;
  SqliteTransaction tx_;
  // Reset after each use, so none is running when the transaction ends.
  std::map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

SqliteStore::SqliteStore(const std::string& path, Access access,
                         const std::vector<Migration>& migrations)
    : StoreWriter(access, kDialect) {
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
  readers_ = std::make_unique<ConnectionPool<SqliteConnection>>(
      [path] { return openReader(path); },
      // A connection left inside a transaction (a failed read) would pin an old snapshot.
      [](SqliteConnection& conn) { return sqlite3_get_autocommit(conn.get()) != 0; });
}

SqliteStore::~SqliteStore() = default;

int SqliteStore::checkSchema(const std::string& path, const std::vector<Migration>& migrations) {
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

void SqliteStore::transact(WriteKind kind, const std::function<void(SqlTransaction&)>& body) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Check-time stamps, and lease renewals (one every quarter of the lease: the next will do),
  // give up quickly under another process's lock rather than hold up the writes queued here.
  const bool quick = kind == WriteKind::Stamp || kind == WriteKind::LeaseRenewal;
  const BusyTimeout timeout(*conn_, quick ? kStampBusyTimeoutMs : kBusyTimeoutMs);
  Transaction tx(*conn_, SqliteTransaction::Kind::Immediate);
  body(tx);
}

int SqliteStore::schemaVersion() {
  auto reader = readers_->acquire();
  return static_cast<int>(reader->queryInt("PRAGMA user_version"));
}

std::int64_t SqliteStore::revision() {
  auto reader = readers_->acquire();
  return revisionOf(*reader);
}

std::vector<RouteRecord> SqliteStore::loadRoutesLocked(SqliteConnection& conn,
                                                       const std::string& where,
                                                       const std::string& arg, std::size_t limit) {
  std::vector<RouteRecord> routes;
  {
    SqliteStatement st(
        conn.get(),
        "SELECT id, prefix, balancer, health_interval_ms, health_timeout_ms, health_type, "
        "health_path, health_fall, health_rise, slow_start_ms FROM routes " +
            where + " ORDER BY prefix" +
            (limit > 0 ? " LIMIT " + std::to_string(limit) : std::string()));
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
      r.health.slowStart = std::chrono::milliseconds(st.columnInt(9));
      routes.push_back(std::move(r));
    }
  }
  SqliteStatement st(
      conn.get(),
      "SELECT id, url, healthy, COALESCE(last_checked_at, ''), COALESCE(last_changed_at, ''), "
      "COALESCE(last_error, ''), weight, state, COALESCE(serving_since, ''), "
      "COALESCE(modified_at, ''), COALESCE((SELECT holder FROM health_leases l WHERE "
      "l.target_id = targets.id AND l.expires_at > " +
          std::string(kDialect.nowMs) + "), '') FROM targets WHERE route_id = ? ORDER BY id");
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
      t.weight = static_cast<int>(st.columnInt(6));
      t.state = parseServingState(st.columnText(7));
      t.servingSince = st.columnText(8);
      t.modifiedAt = st.columnText(9);
      t.checkedBy = st.columnText(10);
      r.targets.push_back(std::move(t));
    }
    st.reset();
  }
  return routes;
}

std::vector<RouteRecord> SqliteStore::loadRoutes(std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "", "");
  if (revision) *revision = revisionOf(*reader);
  tx.commit();
  return routes;
}

std::optional<RouteRecord> SqliteStore::findRoute(const std::string& prefix,
                                                  std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "WHERE prefix = ?", prefix);
  if (revision) *revision = revisionOf(*reader);
  tx.commit();
  if (routes.empty()) return std::nullopt;
  return std::move(routes.front());
}

RouteChanges SqliteStore::routesChangedSince(std::int64_t since) {
  auto reader = readers_->acquire();
  Transaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto changes = readRouteChanges(tx, since);
  tx.commit();
  return changes;
}

std::vector<RouteRecord> SqliteStore::loadRoutePage(const std::string& after, std::size_t limit,
                                                    std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "WHERE prefix > ?", after, limit);
  if (revision) *revision = revisionOf(*reader);
  tx.commit();
  return routes;
}

ChangePage SqliteStore::changes(const ChangeQuery& query, std::int64_t* revision) {
  auto reader = readers_->acquire();
  Transaction tx(*reader, SqliteTransaction::Kind::Deferred);
  const std::int64_t current = revisionOf(*reader);
  auto page = readChanges(tx, query, current);
  if (revision) *revision = current;
  tx.commit();
  return page;
}

}  // namespace portico
