#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "health/TargetSelection.h"

namespace portico {

class Store;

/// This sidecar's share of the health checks when several sidecars use one store: it holds a
/// lease on each target it probes, renews them (and takes its fair share of free ones) on its
/// own thread every quarter of the lease timeout, and claims at once when the checker sees a
/// target it has not seen before. A lease that is not renewed expires after the lease timeout
/// and another sidecar takes the target over. While the store cannot be reached it holds
/// nothing (the checker pauses; the leases run out, and whoever reaches the store first takes
/// them). Told whenever the set it holds changes, so the checker reloads.
class HealthLeases final : public TargetSelection {
 public:
  HealthLeases(Store& store, std::string holder, std::chrono::milliseconds leaseTimeout,
               std::function<void()> changed);
  ~HealthLeases() override;  // stops
  HealthLeases(const HealthLeases&) = delete;
  HealthLeases& operator=(const HealthLeases&) = delete;

  void start();
  /// Stops renewing and gives the leases up, so the other sidecars take over at once.
  void stop();

  std::vector<RouteRecord> select(std::vector<RouteRecord> routes, bool whole) override;
  std::string holder() const override { return holder_; }
  bool paused() const override;

  /// Renews now; returns whether the set held changed.
  bool renew();

 private:
  void run();
  /// Takes the free leases of targets just seen (no renewal of the others, no reload).
  void claim(const std::vector<std::int64_t>& ids);
  /// Whether holding `held` instead of held_ needs the checker to read everything again.
  bool mustReload(const std::vector<std::int64_t>& held) const;  // under mutex_
  bool holds(std::int64_t id) const;                             // under mutex_

  Store& store_;
  const std::string holder_;
  const std::chrono::milliseconds leaseTimeout_;
  const std::function<void()> changed_;

  std::mutex renewMutex_;  // one renewal at a time (the thread's and select()'s)
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Sorted ids, 8 bytes a target (a std::set took 48): held_ as the store lists them, seen_
  // every target select() was given last time.
  std::vector<std::int64_t> held_;
  std::vector<std::int64_t> seen_;
  bool paused_{false};
  bool stopping_{false};
  std::thread thread_;
};

}  // namespace portico
