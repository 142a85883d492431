#pragma once

#include <chrono>

namespace portico {

/// What a store's follower (the proxy's reloader) waits on between checks of the revision: it
/// wakes as soon as the store announces a committed change (PostgreSQL's LISTEN/NOTIFY, inotify
/// on an SQLite store's files), or when its timeout passes (the polling fallback).
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  /// Waits until a change is announced, interrupt() is called or `timeout` passes. Returns true
  /// when an announcement (or an interrupt) ended the wait. Never throws: a feed that lost its
  /// connection waits out the timeout and reconnects later, with backoff.
  virtual bool wait(std::chrono::milliseconds timeout) = 0;
  /// Waits until `until` or interrupt(), not woken by announcements, and returns true when
  /// something was announced meanwhile (taken from the feed) or it was interrupted: the gap a
  /// follower leaves between two reads of a burst (FeedPacing). An SQLite feed announces every
  /// write to the store's log, dozens per route created: waking at each, the proxy's reloader
  /// woke more often than the sidecar wrote.
  virtual bool pause(std::chrono::steady_clock::time_point until) = 0;
  /// Ends the current wait and every later one at once (the follower is stopping). Any thread.
  virtual void interrupt() = 0;
};

}  // namespace portico
