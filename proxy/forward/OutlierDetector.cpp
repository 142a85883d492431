#include "forward/OutlierDetector.h"

namespace portico {

std::chrono::milliseconds OutlierDetector::record(TargetState& target, int status,
                                                  std::int64_t nowMs, std::size_t ejectedNow,
                                                  std::size_t targets) const {
  if (!isError(status)) {
    target.consecutiveErrors.store(0, std::memory_order_relaxed);
    return std::chrono::milliseconds(0);
  }
  const int errors = target.consecutiveErrors.fetch_add(1, std::memory_order_relaxed) + 1;
  if (errors < policy_.consecutiveErrors) return std::chrono::milliseconds(0);
  // Already out (a request that was under way when it was ejected), or the cap is reached.
  if (target.ejectedUntilMs.load(std::memory_order_relaxed) > nowMs)
    return std::chrono::milliseconds(0);
  if (ejectedNow >= maxEjected(targets)) return std::chrono::milliseconds(0);
  const int n = target.ejections.fetch_add(1, std::memory_order_relaxed) + 1;
  const auto length = ejectionTime(n);
  target.ejectedUntilMs.store(nowMs + length.count(), std::memory_order_relaxed);
  target.returnedAtMs.store(nowMs + length.count(), std::memory_order_relaxed);
  target.consecutiveErrors.store(0, std::memory_order_relaxed);
  return length;
}

}  // namespace portico
