#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "health/HealthSchedule.h"
#include "health/HealthStoreLink.h"
#include "health/ProbeRunner.h"
#include "observe/ProbeCounts.h"

namespace portico::net {
class TlsClientConfig;
}

namespace portico {

class SidecarMetrics;
class Store;
class TargetSelection;

/// How the health checker runs.
struct HealthCheckerOptions {
  std::size_t loops{1};  // probe event loops (ProbeLoops); one carries 10,000 probes/s
  std::chrono::milliseconds revisionPoll{200};   // another process may change the store
  std::chrono::milliseconds checkedFlush{1000};  // last_checked_at written once per sweep
  // Probes due within this window of each other start together (a probe starts at most this
  // late): 10,000 probes a second take 200 wake-ups, not 10,000.
  std::chrono::milliseconds batchWindow{5};
  // Probes in flight at once; 0: half the process's descriptor limit (RLIMIT_NOFILE), at most
  // 1024. Targets due beyond it wait for probes to finish instead of failing for want of a
  // descriptor (50,000 targets created together fall due together).
  std::size_t maxInFlight{0};
  // Connections kept open between http probes (health.keepalive_max); at most half of what the
  // descriptor limit leaves beside the probes in flight.
  std::size_t keepAliveMax{4096};
};

/// Probes every target of every route at its route's interval and writes verdict transitions
/// to the store. Three parts, each with one job: the HealthSchedule decides what is due and
/// what a result means (pure logic, under this class's lock); a ProbeRunner does the I/O on its
/// event loops; the HealthStoreLink reads the store and writes verdicts in order. This class
/// only carries jobs and results between them, on one scheduler thread.
class HealthChecker : private ProbeSink, private HealthStoreListener, public ProbeCountSource {
 public:
  /// Production probes on `options.loops` event loops; `tls` is how http checks speak to https
  /// targets (null: such checks fail).
  explicit HealthChecker(Store& store, std::shared_ptr<const net::TlsClientConfig> tls = nullptr,
                         HealthCheckerOptions options = {});
  /// For tests and embedding: a runner of one's own (fakes, recorders).
  HealthChecker(Store& store, std::shared_ptr<ProbeRunner> runner,
                HealthCheckerOptions options = {});
  ~HealthChecker() override;  // stops
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  void stop();
  /// Counts probes and transitions there (the probe counts are read from here at each
  /// scrape); call before start().
  void observe(SidecarMetrics* metrics);
  void visitProbeCounts(const Visit& visit) const override;
  void notifyChanged();  // the store changed: re-read now, probe new targets at once
  /// Probes only the targets `selection` picks (this sidecar's leases); call before start().
  void select(TargetSelection* selection) { link_.select(selection); }
  /// The selection picks other targets now (leases taken or lost): re-read everything.
  void selectionChanged() { link_.selectionChanged(); }

 private:
  using Clock = HealthSchedule::Clock;

  void schedulerLoop();
  // ProbeSink: on the runner's threads.
  void probed(std::vector<ProbeOutcome>& outcomes) override;
  // HealthStoreListener: on the link's thread.
  void loaded(const std::vector<RouteRecord>& routes) override;
  void changed(const std::vector<RouteRecord>& routes,
               const std::vector<RouteKey>& removed) override;
  void notStored(const HealthVerdict& verdict) override;

  const std::chrono::milliseconds batchWindow_;
  const std::size_t maxInFlight_;
  std::shared_ptr<ProbeRunner> runner_;
  HealthStoreLink link_;
  SidecarMetrics* metrics_{nullptr};

  mutable std::mutex mutex_;  // guards everything below but the thread
  std::condition_variable wake_;
  HealthSchedule schedule_;
  Clock::time_point plannedWake_{};
  bool scheduleChanged_{false};  // the scheduler must plan again
  std::size_t inFlight_{0};      // probes handed to the runner without an outcome yet
  bool stopping_{false};
  bool running_{false};
  std::thread scheduler_;
};

}  // namespace portico
