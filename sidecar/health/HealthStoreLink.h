#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "health/HealthSchedule.h"
#include "model/Model.h"
#include "store/FeedPacing.h"

namespace portico {

class SidecarMetrics;
class Store;
class TargetSelection;

/// Told what the store holds and which verdicts it refused; called on the link's thread
/// (or in start()), never with the link's lock held.
class HealthStoreListener {
 public:
  virtual ~HealthStoreListener() = default;
  /// Every route with its targets, as of a revision newer than the last one given (the first
  /// load, and after a gap in the change history).
  virtual void loaded(const std::vector<RouteRecord>& routes) = 0;
  /// Only what changed since the last call: `routes` as stored now, `removed` routes gone.
  virtual void changed(const std::vector<RouteRecord>& routes,
                       const std::vector<RouteKey>& removed) = 0;
  /// `verdict` could not be written and no newer verdict of its target is waiting.
  virtual void notStored(const HealthVerdict& verdict) = 0;
};

/// The health checker's only contact with the store, on one thread of its own: it notices
/// changes (a notification from the admin API, or the revision polled for other writers),
/// writes verdict transitions in the order they were reached, and stamps check times once per
/// flush interval. A commit that waits on the disk or on another process's lock holds up
/// nothing but this thread: probes and their schedule go on.
class HealthStoreLink {
 public:
  struct Options {
    std::chrono::milliseconds revisionPoll{200};
    std::chrono::milliseconds checkedFlush{1000};
    // Between two reads of changes while they keep coming: ten times the last read's CPU (with
    // its lease claim), 20 to 100 ms; a new target's first probe waits at most that much longer.
    FeedPacing reloadPacing{std::chrono::milliseconds(20), std::chrono::milliseconds(100), 10};
  };

  HealthStoreLink(Store& store, Options options);
  ~HealthStoreLink();
  HealthStoreLink(const HealthStoreLink&) = delete;
  HealthStoreLink& operator=(const HealthStoreLink&) = delete;

  /// Counts transitions there; before start().
  void observe(SidecarMetrics* metrics) { metrics_ = metrics; }
  /// Only the targets `selection` picks are given to the listener, and verdicts are written as
  /// its holder; before start().
  void select(TargetSelection* selection) { selection_ = selection; }
  /// The selection changed (no store revision tells): the next read is a whole one.
  void selectionChanged();
  /// Loads the store once (before returning) and starts the thread.
  void start(HealthStoreListener& listener);
  /// Writes the verdicts still waiting and the check times, then ends the thread.
  void stop();

  /// The store changed: read it now.
  void notifyChanged();
  /// From any thread: a transition to write. A newer verdict of a target whose older one still
  /// waits takes its place (only the latest is worth writing, and never out of order).
  void write(HealthVerdict verdict);
  /// From any thread: targets probed, to be stamped at the next flush.
  void checked(const std::vector<std::int64_t>& targetIds);

 private:
  void run();
  void reload();
  void writeWaiting(std::unique_lock<std::mutex>& lock);
  bool store(const HealthVerdict& verdict);
  void flushChecked();

  Store& store_;
  const Options options_;
  SidecarMetrics* metrics_{nullptr};
  HealthStoreListener* listener_{nullptr};
  TargetSelection* selection_{nullptr};
  bool revisionUnreadable_{false};  // logged once per streak (the link's thread only)

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::int64_t> order_;                           // targets with a verdict waiting
  std::unordered_map<std::int64_t, HealthVerdict> waiting_;  // by target id
  std::vector<std::int64_t> checked_;
  std::int64_t seenRevision_{-1};  // touched by start() and the thread only
  bool changed_{false};
  bool wholeRead_{false};  // the next read takes every route (the selection changed)
  bool stopping_{false};
  std::thread thread_;
};

}  // namespace portico
