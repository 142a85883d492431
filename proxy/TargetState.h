#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "Normalize.h"
#include "ProxyMetrics.h"
#include "UpstreamPool.h"

namespace portico {

/// Runtime state of one target that outlives snapshot swaps: the proxy keeps one per
/// (route prefix, target URL) and hands the same object to every snapshot that has the target.
struct TargetState {
  explicit TargetState(TargetUrl u) : url(std::move(u)) {}
  TargetState(const TargetState&) = delete;
  TargetState& operator=(const TargetState&) = delete;

  const TargetUrl url;
  std::atomic<int> inFlight{0};  // requests this proxy has open to the target
  std::atomic<std::int64_t> avoidUntilMs{
      0};             // steady-clock ms; passive cooldown after a refused connect
  UpstreamPool pool;  // idle keep-alive connections to the target
  /// Its counters (labels route, target); null when the table was built without metrics.
  std::shared_ptr<ProxyMetrics::TargetHandle> metrics;
};

}  // namespace portico
