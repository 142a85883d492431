#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/ConnectionPool.h"
#include "store/Migrations.h"
#include "store/StoreWriter.h"
#include "store/postgres/Postgres.h"

namespace portico {

/// The store on a PostgreSQL server (`store.url`), shared by proxies and sidecars on several
/// machines. Every write locks the revision row first, so writes through different sidecars
/// are serialised and revisions commit in order; a change sends NOTIFY portico_changes in its
/// own transaction, so a proxy that LISTENs (PgChangeFeed) reloads as soon as it commits. Reads
/// of several rows run in one REPEATABLE READ READ ONLY transaction (a consistent snapshot).
/// Leases and their expiry use the server's clock. An unreachable server is StoreUnavailable;
/// an operation that failed on a connection idle since before a server restart is retried
/// once on a new connection, unless its COMMIT was already sent. The reads are StoreReader's,
/// the writes StoreWriter's.
///
/// The schema version lives in portico_schema; a ReadWrite store upgrades an older schema
/// under an advisory lock (several sidecars starting together upgrade once), a ReadOnly one
/// refuses it (StoreNotReady), and both refuse a newer one (StoreError).
class PostgresStore final : public StoreWriter {
 public:
  explicit PostgresStore(const std::string& url, Access access = Access::ReadWrite,
                         const std::vector<Migration>& migrations = embeddedPostgresMigrations());
  ~PostgresStore() override;

  /// For --check: connects read-only and throws StoreError unless the database holds no Portico
  /// schema yet (-1) or one this binary knows or can upgrade (its version). Writes nothing.
  static int checkSchema(const std::string& url,
                         const std::vector<Migration>& migrations = embeddedPostgresMigrations());

  int schemaVersion() override;

  /// The channel every committed change is announced on.
  static constexpr const char* kChannel = "portico_changes";

 private:
  class Transaction;

  void transact(WriteKind kind, const std::function<void(SqlTransaction&)>& body) override;
  /// NOTIFY kChannel, delivered when the change commits.
  void announce(SqlTransaction& tx, std::int64_t revision) override;
  /// A snapshot is REPEATABLE READ READ ONLY; a statement runs without a transaction.
  void read(ReadKind kind, const std::function<void(SqlTransaction&)>& body) override;
  template <typename F>
  auto withConnection(F&& body) -> decltype(body(std::declval<PgConnection&>()));

  ConnectionPool<PgConnection> pool_;  // a connection per concurrent operation
};

}  // namespace portico
