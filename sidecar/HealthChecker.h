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

class Store;

/// How the health checker runs; the defaults suit 1,000 targets at a 1 s interval.
struct HealthCheckerOptions {
  int threads{16};                               // probe workers (a fixed, bounded pool)
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
  void notifyChanged();  // the store changed: re-read now, probe new targets at once

 private:
  using Clock = HealthSchedule::Clock;

  void schedulerLoop();
  void workerLoop();
  void reload();
  void flushChecked();
  void writeInOrder(HealthVerdict verdict, std::unique_lock<std::mutex>& lock);
  bool write(const HealthVerdict& verdict);

  Store& store_;
  std::shared_ptr<Probe> probe_;
  HealthCheckerOptions options_;

  std::mutex mutex_;  // guards everything below except the threads
  std::condition_variable schedulerWake_;
  std::condition_variable workReady_;
  HealthSchedule schedule_;
  std::deque<HealthJob> queue_;
  std::vector<std::int64_t> checked_;  // probed since the last flush
  // Targets whose verdict a worker is writing, and the newer verdict it must write next: two
  // writes of one target racing each other could leave the older verdict in the store.
  std::unordered_map<std::int64_t, std::optional<HealthVerdict>> writing_;
  Clock::time_point plannedWake_{};
  std::int64_t seenRevision_{-1};
  bool changed_{false};
  bool stopping_{false};
  bool running_{false};

  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace portico
