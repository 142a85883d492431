#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "net/IntrusiveList.h"
#include "net/Releasable.h"
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
/// A handler may close its object while events are being dispatched; the owner hands it to
/// releaseLater() and the loop destroys it after the batch (and the batch-end hook), so a later
/// event of the same batch never reaches freed memory (the closed object ignores it).
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Level-triggered registration (EPOLLIN/EPOLLOUT as given). Throws std::system_error.
  void add(int fd, std::uint32_t events, EventHandler& handler);
  void modify(int fd, std::uint32_t events, EventHandler& handler);
  /// The same without exceptions, for the data path (see Registration): false with errno set.
  bool tryAdd(int fd, std::uint32_t events, EventHandler& handler) noexcept;
  bool tryModify(int fd, std::uint32_t events, EventHandler& handler) noexcept;
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

  /// Runs after every batch of events, timers and posted work, on the loop's thread.
  void setBatchEnd(std::function<void()> hook) { batchEnd_ = std::move(hook); }

  /// On the loop's thread: destroys `object` at the end of this turn, after the batch-end hook
  /// (whatever it releases while being destroyed goes in the same turn). Every connection type
  /// releases itself this way (ProxyLoop::closed, HttpServer::closed, ProbeLoops, released
  /// UpstreamChannels); an Http2Connection's streams should too (Http2Stream deriving from
  /// Releasable, `loop_.events().releaseLater(std::move(stream))` instead of closedStreams_).
  void releaseLater(std::unique_ptr<Releasable> object) {
    assert(object && !object->releasing());  // released once
    released_.pushBack(object.release()->releaseNode_);
  }
  /// Destroys what releaseLater() holds now. run() calls it every turn; an owner whose objects
  /// use its own members calls it from its destructor, before they are gone.
  void releaseClosed();

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
  IntrusiveList released_;
  std::atomic<bool> stopping_{false};
  std::mutex postMutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace portico::net
