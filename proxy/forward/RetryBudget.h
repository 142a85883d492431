#pragma once

#include <algorithm>
#include <atomic>

namespace portico {

/// Envoy's retry budget: retries in flight over a route may be at most `percent` of the route's
/// requests in flight, and at least kMinRetries, so a failing target cannot multiply the load
/// the route puts on the others. Pure logic over two counters the caller keeps (RouteState).
class RetryBudget {
 public:
  static constexpr int kMinRetries = 3;

  explicit RetryBudget(int percent) : percent_(percent) {}

  /// How many retries may be in flight while `requests` are.
  int cap(int requests) const {
    return std::max(kMinRetries,
                    static_cast<int>(static_cast<long long>(requests) * percent_ / 100));
  }
  /// Whether one more retry may start now.
  bool allows(int requests, int retries) const { return retries < cap(requests); }
  /// Counts a retry in `retries` when the budget allows one at `requests` in flight.
  bool acquire(const std::atomic<int>& requests, std::atomic<int>& retries) const {
    int held = retries.load(std::memory_order_relaxed);
    while (allows(requests.load(std::memory_order_relaxed), held)) {
      if (retries.compare_exchange_weak(held, held + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }

 private:
  int percent_;
};

}  // namespace portico
