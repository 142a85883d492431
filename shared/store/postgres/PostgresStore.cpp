#include "store/postgres/PostgresStore.h"

#include <optional>

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
                              "id = ANY(string_to_array($1, ',')::BIGINT[])", " COLLATE \"C\""};

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

}  // namespace

/// A transaction on one of the pool's connections as the SQL written once sees it
/// (SqlTransaction); inserted rows give their id with RETURNING. Opened with `begin`, or
/// without one: its one statement runs on its own (autocommit).
class PostgresStore::Transaction final : public SqlTransaction {
 public:
  Transaction(PgConnection& conn, const char* begin) : SqlTransaction(kDialect), conn_(conn) {
    if (begin) tx_.emplace(conn, begin);
  }

  SqlRows query(const std::string& sql, const SqlParams& params) override {
    const auto r = conn_.exec(sql, native(params));
    SqlRows rows;
    for (int i = 0; i < r.rows(); ++i) {
      std::vector<std::string> row;
      row.reserve(static_cast<std::size_t>(r.columns()));
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
  void commit() override {
    if (tx_) tx_->commit();
  }

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
  std::optional<PgTransaction> tx_;
};

PostgresStore::PostgresStore(const std::string& url, Access access,
                             const std::vector<Migration>& migrations)
    : StoreWriter(access),
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
    // The proxy's connections are read-only by default; its heartbeat row is its one write.
    Transaction tx(conn, kind == WriteKind::Heartbeat ? "BEGIN READ WRITE" : "BEGIN");
    if (kind == WriteKind::Heartbeat) {
      // A busy store skips a beat; the row is rewritten at the next, so no wait for the WAL
      // flush either.
      conn.exec("SET LOCAL lock_timeout = '100ms'");
      conn.exec("SET LOCAL synchronous_commit = off");
    } else if (kind == WriteKind::Stamp) {
      // Bookkeeping: under another writer's row locks it gives up quickly (StoreBusy).
      conn.exec("SET LOCAL lock_timeout = '100ms'");
    } else if (kind == WriteKind::LeaseRenewal || kind == WriteKind::LeaseRelease) {
      conn.exec(kLeaseLock);
      // Then the revision row, as every change takes it first: a lease write takes the target
      // rows' key locks (its leases reference them) and then lease rows, a change deleting
      // targets takes them the other way round (the cascade), and the two deadlocked (a
      // config revert failed with 40P01). Serialised like this they wait for each other
      // instead, as SQLite's single writer always has them.
      conn.exec("SELECT value FROM revision WHERE id = 1 FOR UPDATE");
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

void PostgresStore::read(ReadKind kind, const std::function<void(SqlTransaction&)>& body) {
  withConnection([&](PgConnection& conn) {
    Transaction tx(conn, kind == ReadKind::Snapshot ? kReadSnapshot : nullptr);
    body(tx);
  });
}

}  // namespace portico
