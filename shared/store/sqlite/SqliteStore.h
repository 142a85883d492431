#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/Migrations.h"
#include "store/StoreWriter.h"

namespace portico {

class SqliteCheckpointer;
class SqliteConnection;
template <typename Connection>
class ConnectionPool;

/// The store in one SQLite file (WAL), the embedded default (`store.path`). Writes go through
/// one connection under a process-wide mutex and SQLite's write lock (BEGIN IMMEDIATE), so
/// several processes may share the file; reads run on connections of their own
/// (query-only, lent from a pool): they see the last committed state and never wait for a write,
/// this process's or another's. The reads are StoreReader's, the writes StoreWriter's. A
/// ReadWrite store checks at opening that it can write (StoreError otherwise). Leases use the
/// clock of the machine the file is on.
class SqliteStore final : public StoreWriter {
 public:
  explicit SqliteStore(const std::string& path, Access access = Access::ReadWrite,
                       const std::vector<Migration>& migrations = embeddedMigrations());
  ~SqliteStore() override;

  /// For --check: when `path` exists, opens it read-only (writing nothing, not even a journal)
  /// and throws StoreError unless it is a store whose schema this binary knows or can upgrade.
  /// Returns its schema version, or -1 when there is no file yet.
  static int checkSchema(const std::string& path,
                         const std::vector<Migration>& migrations = embeddedMigrations());

  int schemaVersion() override;

 private:
  class Transaction;

  void transact(WriteKind kind, const std::function<void(SqlTransaction&)>& body) override;
  /// On a reader of the pool: a snapshot is a deferred transaction, which takes no lock a
  /// write waits for.
  void read(ReadKind kind, const std::function<void(SqlTransaction&)>& body) override;

  std::mutex mutex_;  // one connection; SQLite transactions must not interleave across threads
  std::unique_ptr<SqliteConnection> conn_;
  // A writable store's checkpoints, off the commit path; made after conn_, stopped before it.
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  // The reads: schema, revision, routes, changes.
  std::unique_ptr<ConnectionPool<SqliteConnection>> readers_;
};

}  // namespace portico
