#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "net/TimerList.h"

namespace portico::net {

/// Told when its file descriptor is ready (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void onEvent(std::uint32_t events) = 0;
};

/// One thread's epoll loop: file descriptors with their handlers, lists of fixed-duration timers,
/// and work posted from other threads. Everything registered with a loop is used by its thread
/// only, so nothing on the hot path takes a lock.
///
/// A handler may close its object while events are being dispatched; the owner releases closed
/// objects in the batch-end hook (setBatchEnd), so a later event of the same batch never reaches
/// freed memory (the closed object ignores it).
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Level-triggered registration (EPOLLIN/EPOLLOUT as given). Throws std::system_error.
  void add(int fd, std::uint32_t events, EventHandler& handler);
  void modify(int fd, std::uint32_t events, EventHandler& handler);
  /// Quietly ignores a descriptor that is not registered.
  void remove(int fd);

  /// A timer list the loop checks on every turn; it must outlive the loop's run().
  void watch(TimerList& timers);

  /// Monotonic milliseconds, read once per turn of the loop (cheap to call on the hot path).
  std::int64_t now() const { return now_; }
  /// Reads the clock again (after work that may have taken a while).
  std::int64_t refreshNow();

  /// Runs until stop(); returns on this thread.
  void run();
  /// From any thread: run() returns after the current turn.
  void stop();
  /// From any thread: `task` runs on the loop's thread at its next turn.
  void post(std::function<void()> task);

  /// Runs after every batch of events and timers, on the loop's thread (releases what the batch
  /// closed).
  void setBatchEnd(std::function<void()> hook) { batchEnd_ = std::move(hook); }

  /// A deadline that is not part of a timer list (e.g. the end of a drain): the loop wakes up
  /// by then at the latest.
  void wakeBy(std::int64_t deadlineMs);

 private:
  void runPosted();
  std::int64_t nextDeadline() const;

  int epoll_{-1};
  int wake_{-1};  // eventfd: post() and stop() from other threads
  std::int64_t now_{0};
  std::int64_t extraDeadline_{0};
  std::vector<TimerList*> timers_;
  std::function<void()> batchEnd_;
  std::atomic<bool> stopping_{false};
  std::mutex postMutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace portico::net
