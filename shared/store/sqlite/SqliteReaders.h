#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/Sqlite.h"

namespace portico {

/// Query-only connections to one SQLite file, lent one per concurrent reader. With WAL, a read
/// on its own connection sees the last committed state while another connection (this
/// process's writer or another process) holds the write lock, so a read waits neither for a
/// write nor for another read; only SQLite's busy timeout bounds it (then StoreBusy).
class SqliteReaders {
 public:
  /// A lent connection, given back when the lease ends.
  class Lease {
   public:
    Lease(SqliteReaders& owner, std::unique_ptr<SqliteConnection> conn)
        : owner_(&owner), conn_(std::move(conn)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;

    SqliteConnection& operator*() const { return *conn_; }
    SqliteConnection* operator->() const { return conn_.get(); }

   private:
    SqliteReaders* owner_;
    std::unique_ptr<SqliteConnection> conn_;
  };

  /// Connections open `path` (which must exist) with this busy timeout; at most `keepIdle` stay
  /// open between reads.
  SqliteReaders(std::string path, int busyTimeoutMs, std::size_t keepIdle = 4);

  /// An idle connection, or a new one when every connection is lent. Throws StoreError.
  Lease acquire();

 private:
  void giveBack(std::unique_ptr<SqliteConnection> conn);

  const std::string path_;
  const int busyTimeoutMs_;
  const std::size_t keepIdle_;
  std::mutex mutex_;  // guards idle_ only, never held during a query
  std::vector<std::unique_ptr<SqliteConnection>> idle_;
};

}  // namespace portico
