#pragma once

#include <chrono>

namespace portico {

/// When the reloader gives freed heap back to the system. A burst of changes builds a table per
/// reload, and each frees the last one's rebuilt routes and its copy of every route pointer;
/// glibc keeps most of that memory mapped for reuse, so after a run of 25,000 creates the
/// process held a few hundred bytes per target more than its tables use (issue 22 allows 1 KB
/// in all). Trimming once the burst has settled (no reload for `quiet`) returns it: one trim
/// per burst, off the event loops, a few milliseconds at 25,000 routes. Pure logic: the caller
/// passes the time and does the trimming.
class HeapTrimSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  explicit HeapTrimSchedule(std::chrono::milliseconds quiet = std::chrono::seconds(1))
      : quiet_(quiet) {}

  /// A table was published at `now`.
  void reloaded(Clock::time_point now) {
    pending_ = true;
    lastReload_ = now;
  }
  /// True once per burst, the first time it is asked `quiet` after the burst's last reload.
  bool due(Clock::time_point now) {
    if (!pending_ || now - lastReload_ < quiet_) return false;
    pending_ = false;
    return true;
  }

 private:
  const std::chrono::milliseconds quiet_;
  bool pending_{false};
  Clock::time_point lastReload_{};
};

}  // namespace portico
