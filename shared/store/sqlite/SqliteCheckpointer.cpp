#include "store/sqlite/SqliteCheckpointer.h"

#include "base/Log.h"
#include "store/sqlite/Sqlite.h"

#ifndef SQLITE_DEFAULT_WAL_AUTOCHECKPOINT
#define SQLITE_DEFAULT_WAL_AUTOCHECKPOINT 1000  // sqlite3.c's default
#endif

namespace portico {

SqliteCheckpointer::SqliteCheckpointer(const std::string& path, sqlite3* writer, int pages)
    : writer_(writer),
      pages_(pages),
      conn_(std::make_unique<SqliteConnection>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX)) {
  // A checkpoint syncs the log before it copies and the database file after (FULL), as the
  // automatic one did on the writer's connection.
  conn_->exec("PRAGMA synchronous = FULL");
  // Replaces the writer's automatic checkpoint (SQLite's is a wal hook too).
  sqlite3_wal_hook(writer_, &SqliteCheckpointer::committed, this);
  thread_ = std::thread([this] { run(); });
}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  // The writer outlives this object: it checkpoints on its own again (SQLite's default), and
  // at its close.
  sqlite3_wal_autocheckpoint(writer_, SQLITE_DEFAULT_WAL_AUTOCHECKPOINT);
}

int SqliteCheckpointer::committed(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  auto* checkpointer = static_cast<SqliteCheckpointer*>(self);
  if (pages < checkpointer->pages_) return SQLITE_OK;
  {
    std::lock_guard<std::mutex> lock(checkpointer->mutex_);
    checkpointer->due_ = true;
  }
  checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void SqliteCheckpointer::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  bool warned = false;
  for (;;) {
    wake_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, without waiting for anyone; what is left
    // is copied by the next one. BUSY means another connection is checkpointing already.
    const int rc = sqlite3_wal_checkpoint_v2(conn_->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, nullptr);
    const bool failed = rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY;
    if (failed && !warned)
      logWarn(std::string("store: checkpoint failed (the log grows until one succeeds): ") +
              sqlite3_errmsg(conn_->get()));
    warned = failed;
    lock.lock();
  }
}

}  // namespace portico
