#pragma once

#include <time.h>

#include <chrono>

namespace portico {

/// The CPU time the calling thread has used, as a std::chrono clock: what a piece of work
/// cost, leaving out what it waited for (a database round trip, a lock, the disk).
struct ThreadCpuClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<ThreadCpuClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

}  // namespace portico
