#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace portico {

class SqliteConnection;

/// Copies the write-ahead log back into the database file on a thread and connection of its
/// own, so no commit waits for it. SQLite's automatic checkpoint runs inside the commit that
/// grows the log past 1,000 pages: with the writer's mutex held, it wrote up to 4 MB to the
/// database file and synced it while every admin write queued behind it (the slowest route
/// creates of `scale-bench.sh`, issue 22). Installed on the writer's connection, it replaces
/// that automatic checkpoint; a PASSIVE checkpoint takes no lock a writer or reader waits for.
/// Other processes keep SQLite's own (1,000 pages): a proxy's heartbeat may still checkpoint
/// when this process does not run.
class SqliteCheckpointer {
 public:
  /// Checkpoints `path` whenever a commit on `writer` leaves at least `pages` in the log.
  SqliteCheckpointer(const std::string& path, sqlite3* writer, int pages);
  ~SqliteCheckpointer();  // the writer's automatic checkpoint back, the thread joined
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

 private:
  static int committed(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  sqlite3* const writer_;
  const int pages_;
  std::unique_ptr<SqliteConnection> conn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_{false};
  bool stopping_{false};
  std::thread thread_;
};

}  // namespace portico
