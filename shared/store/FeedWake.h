#pragma once

#include <chrono>

namespace portico {

/// What a ChangeFeed's wait watches besides its own descriptor: the feed's interrupt, an
/// eventfd that stays set once written, so the wait it ends and every later one return at once
/// (the follower is stopping). Shared by the SQLite (inotify) and PostgreSQL (LISTEN) feeds.
class FeedWake {
 public:
  enum class Event { Interrupted, Readable, TimedOut };

  FeedWake();  // throws std::system_error when no eventfd can be made
  ~FeedWake();
  FeedWake(const FeedWake&) = delete;
  FeedWake& operator=(const FeedWake&) = delete;

  /// Ends the current wait and every later one. Any thread.
  void interrupt();
  /// Whether interrupt() was called, without waiting.
  bool interrupted() const;
  /// Waits until `fd` is readable (not watched when negative), interrupt() or `deadline`; an
  /// interrupt wins over a readable descriptor.
  Event wait(int fd, std::chrono::steady_clock::time_point deadline) const;

 private:
  int fd_{-1};
};

}  // namespace portico
