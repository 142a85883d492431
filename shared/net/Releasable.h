#pragma once

#include "net/IntrusiveList.h"

namespace portico::net {

/// An object an EventLoop may destroy for its owner at the end of the current turn
/// (EventLoop::releaseLater): a connection closed by one of its own events, whose later events
/// of the same batch may still name it (it ignores them once closed). The link lives in the
/// object, so releasing never allocates.
class Releasable {
 public:
  Releasable() = default;
  virtual ~Releasable() = default;
  Releasable(const Releasable&) = delete;
  Releasable& operator=(const Releasable&) = delete;

  /// Handed to releaseLater() and not destroyed yet.
  bool releasing() const { return releaseNode_.linked(); }

 private:
  friend class EventLoop;
  ListNode releaseNode_;
};

}  // namespace portico::net
