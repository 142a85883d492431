#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/Settings.h"
#include "forward/ProxyContext.h"
#include "observe/ProxyMetrics.h"
#include "routing/RouteTableSlot.h"
#include "runtime/ProxyHeartbeat.h"
#include "runtime/SnapshotReloader.h"

namespace portico {

/// What the data plane needs whichever way it is driven (the event-loop server, or the module
/// inside someone's POCO server): the fixed forwarding context and the route table the store
/// keeps current.
class ProxyRuntime {
 public:
  /// Reads the first table before returning (throws StoreError for a store that exists but
  /// cannot be used, ConfigError for unusable proxy settings) and follows the store from then on.
  /// With `addresses` (its listeners, "host:port"), the proxy writes its row to the store's
  /// proxies table (ProxyHeartbeat) under proxy.id, by default <hostname>:<the first one's port>.
  ProxyRuntime(const Settings& settings, std::size_t loops = 0,
               SnapshotReloader::DroppedTargets dropped = nullptr,
               const std::vector<std::string>& addresses = {});
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
  /// Stops following the store and writing the proxy's row (requests are still served from
  /// the last table).
  void stopReloading();
  /// Reopens the access-log file by its name; returns the error ("" when done).
  std::string reopenLogs();

 private:
  std::unique_ptr<ProxyMetrics> metrics_;
  ProxyContext context_;
  RouteTableSlot slot_;
  std::unique_ptr<ProxyHeartbeat> heartbeat_;  // outlives the reloader, which tells it
  SnapshotReloader reloader_;
};

}  // namespace portico
