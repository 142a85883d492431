#pragma once

#include <cassert>
#include <cstdint>

#include "net/EventLoop.h"

namespace portico::net {

/// What epoll must be told to go from one interest to another.
enum class InterestChange { None, Add, Modify, Remove };

/// The change from `current` (meaningful only while `registered`) to `wanted`; 0 wanted means
/// "nothing to wait for": the descriptor leaves the epoll set, because a level-triggered
/// EPOLLHUP would otherwise be reported on every turn of the loop.
constexpr InterestChange interestChange(bool registered, std::uint32_t current,
                                        std::uint32_t wanted) {
  if (wanted == 0) return registered ? InterestChange::Remove : InterestChange::None;
  if (!registered) return InterestChange::Add;
  return wanted == current ? InterestChange::None : InterestChange::Modify;
}

/// One connection's descriptor on an EventLoop: it remembers the interest epoll holds, so
/// want() makes a system call only when the interest really changes, and says whether epoll took
/// it (no exception: on the data path the caller closes the connection instead).
///
/// The descriptor belongs to the connection (its Stream); the registration only follows it. Its
/// end is said explicitly, once: forget() when the descriptor is about to be closed (closing
/// takes it out of the epoll set, so no epoll_ctl is spent), leave() when it stays open (handed
/// to another object, or nothing to wait for). Declare it after the Stream it follows: if the
/// owner is destroyed while still registered, the destructor leaves while the descriptor is open.
///
/// Adopting it (Http2Connection): replace `interest_`/`registered_` by a Registration built with
/// (loop.events(), *this); updateInterest() becomes `if (!registration_.want(fd, events))
/// close();` and close() calls registration_.forget() before stream_.close().
class Registration {
 public:
  Registration(EventLoop& loop, EventHandler& handler) : loop_(&loop), handler_(&handler) {}
  ~Registration() {
    if (registered()) leave();
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  /// Waits for `events` on `fd` from now on (0: for nothing, out of the epoll set). False, with
  /// errno set, when epoll refused: the previous interest stays as it was.
  [[nodiscard]] bool want(int fd, std::uint32_t events) {
    assert(fd >= 0);
    assert(!registered() || fd == fd_);  // a new descriptor needs forget() or leave() first
    switch (interestChange(registered(), interest_, events)) {
      case InterestChange::None:
        return true;
      case InterestChange::Add:
        if (!loop_->tryAdd(fd, events, *handler_)) return false;
        fd_ = fd;
        break;
      case InterestChange::Modify:
        if (!loop_->tryModify(fd, events, *handler_)) return false;
        break;
      case InterestChange::Remove:
        leave();
        return true;
    }
    interest_ = events;
    return true;
  }
  /// The descriptor is about to be closed, which takes it out of the epoll set.
  void forget() {
    fd_ = -1;
    interest_ = 0;
  }
  /// Out of the epoll set now; the descriptor stays open (nothing happens when not registered).
  void leave() {
    if (registered()) loop_->remove(fd_);
    forget();
  }

  bool registered() const { return fd_ >= 0; }
  std::uint32_t interest() const { return interest_; }

 private:
  EventLoop* loop_;
  EventHandler* handler_;
  int fd_{-1};  // registered with the loop (-1: not)
  std::uint32_t interest_{0};
};

}  // namespace portico::net
