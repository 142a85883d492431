#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "routing/RouteTableSlot.h"
#include "runtime/HeapTrimSchedule.h"
#include "store/ChangeFeed.h"
#include "store/FeedPacing.h"
#include "store/StoreLocation.h"

namespace portico {

class ProxyMetrics;
class Store;
struct TargetState;

/// Keeps a RouteTableSlot in step with the store: checks its revision on its own thread as soon
/// as the store announces a change (ChangeFeed) and at least every interval, and on a
/// change reads every route in one transaction and publishes a new table. Until the store
/// exists (or while it is unreachable or unreadable) the last table keeps serving; the failure
/// is logged once per streak and the store reopened at the next check.
class SnapshotReloader {
 public:
  /// Told which targets a new table dropped, after it is published (their idle connections
  /// close; in-flight requests finish).
  using DroppedTargets = std::function<void(const std::vector<std::shared_ptr<TargetState>>&)>;
  /// Told the revision of each table published, on the reloader's thread.
  using Applied = std::function<void(std::int64_t revision)>;

  /// `loops`: event loops that keep per-loop state in each target (0 for the module alone).
  /// With `metrics`, tables get counter handles and reloads and read errors are counted.
  SnapshotReloader(StoreLocation store, std::chrono::milliseconds interval, RouteTableSlot& slot,
                   std::size_t loops = 0, DroppedTargets dropped = nullptr,
                   ProxyMetrics* metrics = nullptr);
  ~SnapshotReloader();
  SnapshotReloader(const SnapshotReloader&) = delete;
  SnapshotReloader& operator=(const SnapshotReloader&) = delete;

  /// One check now. With `strict`, a store that exists but cannot be used (a schema newer than
  /// this binary, a file that is not a store) throws StoreError instead of being retried.
  void pollOnce(bool strict = false);
  /// Set before the first poll; null tells nobody.
  void onApplied(Applied applied) { applied_ = std::move(applied); }
  void start();
  void stop();

 private:
  /// The gap between two reloads while changes keep coming: ten times the last reload's CPU,
  /// 10 to 50 ms (a reload at 25,000 routes costs ~4 ms: the reloader stays near a tenth of a
  /// core).
  const FeedPacing pacing_{std::chrono::milliseconds(10), std::chrono::milliseconds(50), 10};
  void run();
  void failed(const std::string& message);
  /// Builds or patches the table for the store's new revision and publishes it.
  void reload();
  /// Closes idle upstream connections past their age, at most once a second.
  void pruneIdle();

  const StoreLocation where_;
  const std::chrono::milliseconds interval_;
  RouteTableSlot& slot_;
  const std::size_t loops_;
  DroppedTargets dropped_;
  Applied applied_;
  ProxyMetrics* const metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ChangeFeed> feed_;
  std::int64_t loadedRevision_{-1};
  std::chrono::steady_clock::time_point nextPrune_{};
  HeapTrimSchedule trim_;
  std::string failure_;  // the failure being repeated, logged once per streak

  std::mutex mutex_;  // guards thread_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace portico
