#pragma once

#include <cstdint>
#include <limits>

#include "net/IntrusiveList.h"

namespace portico::net {

/// Told when one of its timers expires.
class TimerHandler {
 public:
  virtual ~TimerHandler() = default;
  virtual void onTimeout(int tag) = 0;
};

/// A timer embedded in the object it times (a connection side): arming it in a list, moving it
/// to another and cancelling it are O(1) and never allocate.
struct Timer : ListNode {
  Timer(TimerHandler& owner, int tag) : owner(&owner), tag(tag) {}
  void cancel() { unlink(); }
  bool armed() const { return linked(); }
  /// Takes `other`'s place in its list, deadline included, leaving `other` unarmed: a timeout
  /// keeps running when the object it times hands over to another (a TLS handshake becoming a
  /// client connection).
  void takeOver(Timer& other) {
    cancel();
    deadline = other.deadline;
    if (!other.armed()) return;
    prev = other.prev;
    next = other.next;
    prev->next = this;
    next->prev = this;
    other.prev = other.next = &other;
  }

  TimerHandler* owner;
  int tag;
  std::int64_t deadline{0};
};

/// Timers that all wait the same duration (the header timeout, the keep-alive timeout...): each
/// new one expires last, so appending keeps the list in deadline order and the next expiry is
/// always at the front. This is how a loop keeps thousands of timers re-armed on every request
/// at O(1) apiece, where a heap would pay O(log n).
class TimerList {
 public:
  explicit TimerList(std::int64_t durationMs) : duration_(durationMs) {}
  TimerList(const TimerList&) = delete;
  TimerList& operator=(const TimerList&) = delete;

  std::int64_t duration() const { return duration_; }

  /// (Re)starts `timer` in this list: it expires `duration` after `now` (ms).
  void arm(Timer& timer, std::int64_t now) {
    timer.deadline = now + duration_;
    list_.pushBack(timer);
  }

  /// Starts `timer` to expire at `deadline` (ms) in a list whose timers do not share one
  /// duration (deadlines a request brings, as gRPC's grpc-timeout): placed in deadline order,
  /// searched from the back, where later deadlines land. Not for a list that arm() fills.
  void armAt(Timer& timer, std::int64_t deadline) {
    timer.unlink();
    timer.deadline = deadline;
    ListNode* at = list_.back();
    while (at && static_cast<Timer*>(at)->deadline > deadline) at = list_.before(at);
    list_.insertAfter(at, timer);
  }

  /// The earliest deadline, or the largest value when the list is empty.
  std::int64_t next() const {
    const ListNode* front = list_.front();
    return front ? static_cast<const Timer*>(front)->deadline
                 : std::numeric_limits<std::int64_t>::max();
  }

  /// Calls onTimeout for each timer due at `now`, unlinking it first (a handler may re-arm it
  /// or destroy its owner).
  void expire(std::int64_t now) {
    while (ListNode* front = list_.front()) {
      auto* timer = static_cast<Timer*>(front);
      if (timer->deadline > now) break;
      timer->unlink();
      timer->owner->onTimeout(timer->tag);
    }
  }

  bool empty() const { return list_.empty(); }

 private:
  std::int64_t duration_;
  IntrusiveList list_;
};

}  // namespace portico::net
