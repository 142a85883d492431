#pragma once

#include <cstddef>
#include <memory>

#include "config/Settings.h"
#include "forward/ProxyContext.h"
#include "observe/ProxyMetrics.h"
#include "routing/RouteTableSlot.h"
#include "runtime/SnapshotReloader.h"

namespace portico {

/// What the data plane needs whichever way it is driven (the event-loop server, or the module
/// inside someone's POCO server): the fixed forwarding context and the route table the store
/// keeps current.
class ProxyRuntime {
 public:
  /// Reads the first table before returning (throws StoreError for a store that exists but
  /// cannot be used, ConfigError for unusable proxy settings) and follows the store from then on.
  ProxyRuntime(const Settings& settings, std::size_t loops = 0,
               SnapshotReloader::DroppedTargets dropped = nullptr);
  ~ProxyRuntime();
  ProxyRuntime(const ProxyRuntime&) = delete;
  ProxyRuntime& operator=(const ProxyRuntime&) = delete;

  const ProxyContext& context() const { return context_; }
  /// Counted by every request unless `settings.proxy.statusEnabled` is false (then nothing
  /// would read the counts, and none are kept).
  ProxyMetrics& metrics() { return *metrics_; }
  /// True once a route table has been read from the store (/readyz).
  bool ready() const { return metrics_->ready(); }
  const RouteTableSlot& slot() const { return slot_; }
  /// Stops following the store (requests are still served from the last table).
  void stopReloading();
  /// Reopens the access-log file by its name; returns the error ("" when done).
  std::string reopenLogs();

 private:
  std::unique_ptr<ProxyMetrics> metrics_;
  ProxyContext context_;
  RouteTableSlot slot_;
  SnapshotReloader reloader_;
};

}  // namespace portico
