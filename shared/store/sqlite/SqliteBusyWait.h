#pragma once

#include <chrono>

struct sqlite3;

namespace portico {

/// How a connection waits for another connection's lock (another process's write, a
/// checkpoint) before a statement fails with SQLITE_BUSY. SQLite's own busy timeout sleeps 1,
/// 2, 5, 10, 15, 20, 25... ms between tries: a route create that found a proxy's heartbeat
/// (0.3 ms) holding the file's write lock slept 8 ms or more, and those sleeps were most of the
/// slowest creates of `scale-bench.sh 25000` (issue 22). Here the first tries come every
/// 100 µs, then every millisecond, until the timeout has passed since the first.
class SqliteBusyWait {
 public:
  using Clock = std::chrono::steady_clock;

  /// The pause before retry `attempt` (0 for the first). Pure: the schedule alone.
  static std::chrono::microseconds pause(int attempt);
  /// Whether retry `attempt`, `waited` after the first failure, still fits in `timeout`.
  static bool retry(int attempt, Clock::duration waited, std::chrono::milliseconds timeout);

  /// Installs this wait on `db` with `timeout` (0: fail at once), replacing any other busy
  /// handler or timeout. This object must outlive the connection's use of it.
  void install(sqlite3* db, std::chrono::milliseconds timeout);

 private:
  static int onBusy(void* self, int attempt);

  std::chrono::milliseconds timeout_{0};
  Clock::time_point first_{};
};

}  // namespace portico
