#include "store/sqlite/SqliteStore.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <cctype>
#include <chrono>
#include <optional>

#include "base/Errors.h"
#include "store/ChangeHistory.h"
#include "store/ConnectionPool.h"
#include "store/SqlTransaction.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteCheckpointer.h"
#include "store/sqlite/SqliteMigrations.h"

namespace portico {
namespace {

// What StoreWriter's SQL says in SQLite. No lock on the revision row: BEGIN IMMEDIATE holds
// the file's write lock already.
constexpr SqlDialect kDialect{"strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                              "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)", "",
                              "id IN (SELECT value FROM json_each('[' || $1 || ']'))", ""};
// How long a statement waits for another connection's lock before failing with StoreBusy:
// long enough to ride out a checkpoint or an operator's short sqlite3 session, short enough
// that an admin request answers well within a client's usual timeout.
constexpr std::chrono::milliseconds kBusyTimeout{5000};
// Check-time stamps are bookkeeping: under another process's lock they give up quickly rather
// than keep this process's writer (and the API writes queued behind it) waiting 5 s a sweep.
constexpr std::chrono::milliseconds kStampBusyTimeout{100};
// The log's size at which the writer's own checkpointer copies it back (SqliteCheckpointer):
// SQLite's default. At 500 the checkpoint thread took 7.5 % of the sidecar's CPU while routes
// were created (each checkpoint copies the pages every create rewrites, and syncs the file).
constexpr int kCheckpointPages = 1000;

/// Sets a connection's busy timeout for a scope and puts the usual one back.
class BusyTimeout {
 public:
  BusyTimeout(SqliteConnection& conn, std::chrono::milliseconds timeout) : conn_(conn) {
    conn.setBusyTimeout(timeout);
  }
  ~BusyTimeout() { conn_.setBusyTimeout(kBusyTimeout); }
  BusyTimeout(const BusyTimeout&) = delete;
  BusyTimeout& operator=(const BusyTimeout&) = delete;

 private:
  SqliteConnection& conn_;
};

/// Commits without an fsync for a scope (synchronous NORMAL, which in WAL mode still keeps the
/// database consistent and syncs at checkpoints): for the writes the next one rewrites anyway —
/// check stamps, health leases (they expire in seconds), heartbeats. A crash may lose the
/// last of them, never a route; the next FULL commit syncs the log with them in it.
class UnsyncedScope {
 public:
  explicit UnsyncedScope(SqliteConnection& conn) : conn_(conn) {
    conn_.exec("PRAGMA synchronous = NORMAL");
  }
  ~UnsyncedScope() {
    try {
      conn_.exec("PRAGMA synchronous = FULL");
    } catch (const StoreError&) {
      // A pragma on an open connection does not fail but for a closed one.
    }
  }
  UnsyncedScope(const UnsyncedScope&) = delete;
  UnsyncedScope& operator=(const UnsyncedScope&) = delete;

 private:
  SqliteConnection& conn_;
};

/// Lets a query-only connection (the proxy's) write for a scope: the proxy's report of itself.
class WritableScope {
 public:
  explicit WritableScope(SqliteConnection& conn)
      : conn_(conn), queryOnly_(conn.queryInt("PRAGMA query_only") != 0) {
    if (queryOnly_) conn_.exec("PRAGMA query_only = OFF");
  }
  ~WritableScope() {
    if (!queryOnly_) return;
    try {
      conn_.exec("PRAGMA query_only = ON");
    } catch (const StoreError&) {
      // A pragma on an open connection does not fail but for a closed one.
    }
  }
  WritableScope(const WritableScope&) = delete;
  WritableScope& operator=(const WritableScope&) = delete;

 private:
  SqliteConnection& conn_;
  const bool queryOnly_;
};

/// The page cache of a store opened read-only (the proxy's): it reads the changes since a
/// revision through indexes, or everything once in one pass, and SQLite's default 2 MB per
/// connection was ~80 bytes per target of a 25,000-route proxy (issue 22) for no hit it needed;
/// the file's pages stay in the kernel's cache either way.
constexpr const char* kReaderCache = "PRAGMA cache_size = -256";  // KiB

/// A connection for reads. With WAL, a read on its own connection sees the last committed state
/// while another connection (this process's writer or another process) holds the write lock,
/// so a read waits neither for a write nor for another read; only the busy timeout bounds it.
std::unique_ptr<SqliteConnection> openReader(const std::string& path) {
  // Opened read-write but query-only: a read-only open of a WAL database fails when its -shm
  // file is absent, and query_only still makes every write an error.
  auto conn = std::make_unique<SqliteConnection>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  conn->setBusyTimeout(kBusyTimeout);
  conn->exec("PRAGMA query_only = ON");
  return conn;
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
/// once per connection (SqliteConnection::statement) and reset after each use. Without a kind,
/// its one statement runs on its own (autocommit).
class SqliteStore::Transaction final : public SqlTransaction {
 public:
  explicit Transaction(SqliteConnection& conn) : SqlTransaction(kDialect), conn_(conn) {}
  Transaction(SqliteConnection& conn, SqliteTransaction::Kind kind) : Transaction(conn) {
    tx_.emplace(conn, kind);
  }

  SqlRows query(const std::string& sql, const SqlParams& params) override {
    SqliteStatement& st = prepare(sql, params);
    const Resetting done{st};
    SqlRows rows;
    while (st.step()) {
      std::vector<std::string> row;
      row.reserve(static_cast<std::size_t>(st.columns()));
      for (int col = 0; col < st.columns(); ++col) row.push_back(st.columnText(col));
      rows.add(std::move(row));
    }
    return rows;
  }
  std::int64_t exec(const std::string& sql, const SqlParams& params) override {
    SqliteStatement& st = prepare(sql, params);
    const Resetting done{st};
    while (st.step()) {
    }
    return sqlite3_changes(conn_.get());
  }
  std::int64_t insert(const std::string& sql, const SqlParams& params) override {
    exec(sql, params);
    return sqlite3_last_insert_rowid(conn_.get());
  }
  void commit() override {
    if (tx_) tx_->commit();
  }

 private:
  /// Resets a kept statement however its use ends: one left mid-step (a failed read) would
  /// hold its snapshot open on the connection, and an autocommit read would see it again.
  struct Resetting {
    SqliteStatement& st;
    ~Resetting() { st.reset(); }
  };

  SqliteStatement& prepare(const std::string& sql, const SqlParams& params) {
    std::string native = sql;
    for (std::size_t i = 0; i + 1 < native.size(); ++i) {
      if (native[i] == '$' && std::isdigit(static_cast<unsigned char>(native[i + 1])))
        native[i] = '?';
    }
    SqliteStatement* st = &conn_.statement(native);
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
  std::optional<SqliteTransaction> tx_;
};

SqliteStore::SqliteStore(const std::string& path, Access access,
                         const std::vector<Migration>& migrations)
    : StoreWriter(access) {
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
  conn_->setBusyTimeout(kBusyTimeout);
  conn_->exec("PRAGMA foreign_keys = ON");
  if (writable) {
    conn_->exec("PRAGMA journal_mode = WAL");
    conn_->exec("PRAGMA synchronous = FULL");
  }
  migrate(*conn_, migrations, writable);
  if (writable) {
    checkCanWrite(*conn_);
    checkpointer_ = std::make_unique<SqliteCheckpointer>(path, conn_->get(), kCheckpointPages);
  }
  if (!writable) {
    conn_->exec("PRAGMA query_only = ON");
    // Its one write is its heartbeat row, which the next beat rewrites: no fsync per commit.
    conn_->exec("PRAGMA synchronous = NORMAL");
    conn_->exec(kReaderCache);
  }
  readers_ = std::make_unique<ConnectionPool<SqliteConnection>>(
      [path, writable] {
        auto reader = openReader(path);
        if (!writable) reader->exec(kReaderCache);
        return reader;
      },
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
  // A proxy's heartbeat too: a busy store skips a beat, the next one catches up.
  const bool quick =
      kind == WriteKind::Stamp || kind == WriteKind::LeaseRenewal || kind == WriteKind::Heartbeat;
  const BusyTimeout timeout(*conn_, quick ? kStampBusyTimeout : kBusyTimeout);
  std::optional<WritableScope> writable;
  if (kind == WriteKind::Heartbeat) writable.emplace(*conn_);
  // The proxy's connection is NORMAL already (its one write is its heartbeat).
  std::optional<UnsyncedScope> unsynced;
  if (kind == WriteKind::Stamp || kind == WriteKind::LeaseRenewal) unsynced.emplace(*conn_);
  Transaction tx(*conn_, SqliteTransaction::Kind::Immediate);
  body(tx);
}

void SqliteStore::read(ReadKind kind, const std::function<void(SqlTransaction&)>& body) {
  auto reader = readers_->acquire();
  if (kind == ReadKind::Statement) {
    Transaction tx(*reader);
    body(tx);
  } else {
    Transaction tx(*reader, SqliteTransaction::Kind::Deferred);
    body(tx);
  }
}

int SqliteStore::schemaVersion() {
  auto reader = readers_->acquire();
  return static_cast<int>(reader->queryInt("PRAGMA user_version"));
}

}  // namespace portico
