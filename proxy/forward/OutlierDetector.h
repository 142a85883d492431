#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "balance/TargetState.h"
#include "model/Resilience.h"

namespace portico {

/// Passive outlier detection (Envoy's consecutive_5xx / consecutive_gateway_failure, nginx's
/// max_fails): a target that fails `consecutiveErrors` times in a row in this proxy is ejected
/// for baseEjectionTime × the number of times it has been ejected (at most 300 s), unless that
/// would put more than maxEjectionPercent of the route's targets out at once. Pure logic over a
/// target's atomics (TargetState) with the clock passed in.
class OutlierDetector {
 public:
  static constexpr std::chrono::milliseconds kMaxEjection{300000};

  explicit OutlierDetector(const OutlierPolicy& policy) : policy_(policy) {}

  /// Whether an attempt that ended so counts as an error: a connect failure, reset or timeout
  /// (`status` 0), a 502/503/504, or with errors "5xx" any 5xx.
  bool isError(int status) const {
    if (status == 0) return true;
    if (policy_.anyServerError) return status >= 500 && status <= 599;
    return status == 502 || status == 503 || status == 504;
  }
  /// How long the `n`th ejection lasts (n ≥ 1).
  std::chrono::milliseconds ejectionTime(int n) const {
    const auto t = policy_.baseEjectionTime * n;
    return t > kMaxEjection ? kMaxEjection : t;
  }
  /// How many of `targets` may be ejected at once.
  std::size_t maxEjected(std::size_t targets) const {
    return targets * static_cast<std::size_t>(policy_.maxEjectionPercent) / 100;
  }
  /// Records one attempt's end on `target`. `ejectedNow`: how many of the route's `targets` are
  /// ejected at `nowMs`. Returns the ejection's length when this one ejects the target, else 0.
  std::chrono::milliseconds record(TargetState& target, int status, std::int64_t nowMs,
                                   std::size_t ejectedNow, std::size_t targets) const;

 private:
  OutlierPolicy policy_;
};

}  // namespace portico
