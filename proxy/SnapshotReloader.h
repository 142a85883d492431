#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "RouteTableSlot.h"

namespace portico {

class ProxyMetrics;
class Store;

/// Keeps a RouteTableSlot in step with the store: polls its revision every interval on its own
/// thread and, on a change, reads every route in one transaction and publishes a new table.
/// Until the store exists (or while it is unreadable) the last table keeps serving. With
/// `metrics`, tables get counter handles and reloads and read errors are counted.
class SnapshotReloader {
 public:
  SnapshotReloader(std::string storePath, std::chrono::milliseconds interval, RouteTableSlot& slot,
                   ProxyMetrics* metrics = nullptr);
  ~SnapshotReloader();
  SnapshotReloader(const SnapshotReloader&) = delete;
  SnapshotReloader& operator=(const SnapshotReloader&) = delete;

  /// One check now. With `strict`, a store that exists but cannot be used (a schema newer than
  /// this binary, a file that is not a store) throws StoreError instead of being retried.
  void pollOnce(bool strict = false);
  void start();
  void stop();

 private:
  void run();
  void failed(const std::string& message);

  const std::string path_;
  const std::chrono::milliseconds interval_;
  RouteTableSlot& slot_;
  ProxyMetrics* const metrics_;
  std::unique_ptr<Store> store_;
  std::int64_t loadedRevision_{-1};
  std::string failure_;  // the failure being repeated, logged once per streak

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_{false};
  std::thread thread_;
};

}  // namespace portico
