#include "store/sqlite/SqliteBusyWait.h"

#include <sqlite3.h>

#include <thread>

namespace portico {
namespace {

// 20 short tries cover the locks this store's own writers hold (a heartbeat, a create: well
// under 2 ms); past them the lock is someone's long transaction, polled once a millisecond.
constexpr int kShortTries = 20;
constexpr std::chrono::microseconds kShortPause{100};
constexpr std::chrono::microseconds kLongPause{1000};

}  // namespace

std::chrono::microseconds SqliteBusyWait::pause(int attempt) {
  return attempt < kShortTries ? kShortPause : kLongPause;
}

bool SqliteBusyWait::retry(int attempt, Clock::duration waited, std::chrono::milliseconds timeout) {
  return attempt >= 0 && waited + pause(attempt) <= timeout;
}

void SqliteBusyWait::install(sqlite3* db, std::chrono::milliseconds timeout) {
  timeout_ = timeout;
  sqlite3_busy_handler(db, &SqliteBusyWait::onBusy, this);
}

int SqliteBusyWait::onBusy(void* self, int attempt) {
  auto* wait = static_cast<SqliteBusyWait*>(self);
  const auto now = Clock::now();
  if (attempt == 0) wait->first_ = now;
  if (!retry(attempt, now - wait->first_, wait->timeout_)) return 0;
  std::this_thread::sleep_for(pause(attempt));
  return 1;
}

}  // namespace portico
