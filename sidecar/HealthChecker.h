#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "HealthSchedule.h"
#include "Probe.h"

namespace portico {

class SidecarMetrics;
class Store;
class TargetSelection;

/// How the health checker runs; the defaults suit 1,000 targets at a 1 s interval.
struct HealthCheckerOptions {
  // Probe workers: `threads` stay warm; more start while probes wait (a silent target holds a
  // worker for its whole timeout), up to `maxThreads`, and leave after `idleTime` without work.
  int threads{16};
  int maxThreads{512};
  std::chrono::milliseconds idleTime{30000};
  std::chrono::milliseconds revisionPoll{200};   // another process may change the store
  std::chrono::milliseconds checkedFlush{1000};  // last_checked_at written once per sweep
};

/// Probes every target of every route at its route's interval; writes verdict transitions to the
/// store.
class HealthChecker {
 public:
  explicit HealthChecker(Store& store);
  /// For tests and embedding: a probe of one's own (fakes, recorders) and tuned options.
  HealthChecker(Store& store, std::shared_ptr<Probe> probe, HealthCheckerOptions options = {});
  ~HealthChecker();  // stops
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  void stop();
  /// Counts probes and transitions there; call before start().
  void observe(SidecarMetrics* metrics) { metrics_ = metrics; }
  /// Probes only the targets `selection` picks (this sidecar's leases); call before start().
  void select(TargetSelection* selection) { selection_ = selection; }
  void notifyChanged();       // the store changed: re-read now, probe new targets at once
  std::size_t workerCount();  // probe workers alive now (warm + those of a burst)

 private:
  using Clock = HealthSchedule::Clock;

  void schedulerLoop();  // hands due probes to workers; never waits on the store
  void storeLoop();      // polls the revision, reloads, flushes check times
  void workerLoop();
  void addWorkers(std::size_t wanted);  // with mutex_ held
  std::size_t liveWorkers() const;      // with mutex_ held: started and not leaving
  void reapWorkers();                   // joins workers that left; without mutex_ held
  void reload();
  void flushChecked();
  void writeInOrder(HealthVerdict verdict, std::unique_lock<std::mutex>& lock);
  bool write(const HealthVerdict& verdict);

  Store& store_;
  std::shared_ptr<Probe> probe_;
  HealthCheckerOptions options_;
  SidecarMetrics* metrics_{nullptr};
  TargetSelection* selection_{nullptr};
  bool revisionUnreadable_{false};  // logged once per streak (store thread only)

  std::mutex mutex_;  // guards everything below except the threads
  std::condition_variable schedulerWake_;
  std::condition_variable storeWake_;
  std::condition_variable workReady_;
  HealthSchedule schedule_;
  std::deque<HealthJob> queue_;
  std::vector<std::int64_t> checked_;  // probed since the last flush
  // Targets whose verdict a worker is writing, and the newer verdict it must write next: two
  // writes of one target racing each other could leave the older verdict in the store.
  std::unordered_map<std::int64_t, std::optional<HealthVerdict>> writing_;
  Clock::time_point plannedWake_{};
  std::int64_t seenRevision_{-1};
  bool changed_{false};          // notifyChanged(): the store thread must reload now
  bool scheduleChanged_{false};  // reloaded: the scheduler must plan again
  bool stopping_{false};
  bool running_{false};

  std::thread scheduler_;
  std::thread storeThread_;
  std::unordered_map<std::thread::id, std::thread> workers_;  // guarded by mutex_
  std::vector<std::thread::id> left_;  // workers that ended after idleTime, to be joined
  std::size_t idle_{0};                // workers waiting for a job
  std::size_t starting_{0};            // workers started that have not looked for a job yet
  bool spawnFailed_{false};            // logged once per failure streak
};

}  // namespace portico
