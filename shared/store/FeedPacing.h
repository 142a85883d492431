#pragma once

#include <chrono>
#include <optional>

namespace portico {

/// How long a follower of the change feed (the proxy's reloader, the health checker's link)
/// waits after reading what changed before it reads again while changes keep coming, so a burst
/// of writes (a script creating routes) is read a batch at a time. The gap is `factor` times
/// the CPU the last read took (not its wall time: a PostgreSQL read waits for the server), within
/// [least, most]: a reader then spends at most about 1/(factor+1) of a core on a burst however
/// large the table grows, and follows a small table within `least`. At 25,000 routes a fixed 10 ms
/// gap let the proxy's reloads cost 0.66 ms of CPU per route created, a third of what the create
/// itself took (issue 22). A change that comes alone is read at once; the gap only delays the ones
/// that follow it. Pure logic: the caller passes the times.
class FeedPacing {
 public:
  using Clock = std::chrono::steady_clock;

  FeedPacing(std::chrono::milliseconds least, std::chrono::milliseconds most, int factor);

  /// The next read may start at the returned time, after one that ended at `end` and used
  /// `cost` of CPU (ThreadCpuClock).
  Clock::time_point next(Clock::time_point end, Clock::duration cost) const;
  /// After an announcement whose read found no new revision, the pause before reading again
  /// (attempt 0 first): 1, 2, 4, 8 and 16 ms, then none (the feed's next announcement or the
  /// follower's interval). An SQLite store announces a write before its commit is readable.
  static std::optional<std::chrono::milliseconds> recheck(int attempt);

 private:
  std::chrono::milliseconds least_;
  std::chrono::milliseconds most_;
  int factor_;
};

}  // namespace portico
