#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "metrics/ProcessMetrics.h"
#include "metrics/Registry.h"
#include "observe/ProbeCounts.h"
#include "observe/ProxyStates.h"
#include "store/Store.h"

namespace portico {

/// The sidecar's metrics, named in one place: health checks, admin requests and store writes
/// as events, the store's verdicts and revision and the proxies' states read at scrape time. Served
/// at /metrics on the admin listener. Events come from the probe workers and admin threads (shared
/// shards).
class SidecarMetrics : public StoreObserver {
 public:
  /// `store` is read at scrape time for target health and the revision.
  explicit SidecarMetrics(Store& store);
  SidecarMetrics(const SidecarMetrics&) = delete;
  SidecarMetrics& operator=(const SidecarMetrics&) = delete;

  /// One probe finished, in `seconds` (it is counted by the source below).
  void probed(double seconds);
  /// Where portico_health_checks_total's counts are read at a scrape (null: none).
  void countProbesFrom(const ProbeCountSource* source);
  /// A target's verdict changed and was stored.
  void transitioned(const std::string& route, const std::string& host, const std::string& target,
                    bool healthy);
  /// An admin request was answered. `endpoint` is one of the API's paths or "other".
  void adminRequest(const std::string& method, const std::string& endpoint, int status);

  // StoreObserver
  void written(double seconds) override;
  void busy() override;

  std::string scrape() const;
  /// The rules the proxies are counted by (proxy.forget_after); set before the first scrape.
  void setProxyRules(const ProxyStateRules& rules) { proxyRules_ = rules; }

  /// The method label: the methods the API knows, else "other" (labels stay few).
  static std::string methodLabel(const std::string& method);

 private:
  void collectStore(metrics::Exposition& out) const;
  /// portico_health_checks_total, by route, host (left out for any-host routes), target and
  /// result, in the order a metrics family would give them.
  void collectProbes(metrics::Exposition& out) const;
  /// The proxies table: proxies by state and the largest lag.
  void collectProxies(metrics::Exposition& out) const;

  Store& store_;
  metrics::Registry registry_;
  mutable std::mutex sourceMutex_;
  const ProbeCountSource* probeCounts_{nullptr};  // under sourceMutex_
  metrics::Histogram checkDuration_;
  metrics::CounterFamily& transitions_;
  metrics::CounterFamily& admin_;
  metrics::Histogram writeDuration_;
  metrics::Counter busy_;
  metrics::ProcessMetrics process_;
  ProxyStateRules proxyRules_;
};

}  // namespace portico
