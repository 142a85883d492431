#include "store/sqlite/SqliteReaders.h"

namespace portico {

SqliteReaders::Lease::~Lease() {
  if (conn_) owner_->giveBack(std::move(conn_));
}

SqliteReaders::SqliteReaders(std::string path, int busyTimeoutMs, std::size_t keepIdle)
    : path_(std::move(path)), busyTimeoutMs_(busyTimeoutMs), keepIdle_(keepIdle) {}

SqliteReaders::Lease SqliteReaders::acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
  }
  // Opened read-write but query-only: a read-only open of a WAL database fails when its -shm
  // file is absent, and query_only still makes every write an error.
  auto conn =
      std::make_unique<SqliteConnection>(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(conn->get(), busyTimeoutMs_);
  conn->exec("PRAGMA query_only = ON");
  return Lease(*this, std::move(conn));
}

void SqliteReaders::giveBack(std::unique_ptr<SqliteConnection> conn) {
  // A connection left inside a transaction (a failed read) would pin an old snapshot.
  if (!sqlite3_get_autocommit(conn->get())) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < keepIdle_) idle_.push_back(std::move(conn));
}

}  // namespace portico
