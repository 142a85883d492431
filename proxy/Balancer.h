#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "Model.h"
#include "TargetState.h"

namespace portico {

/// Says whether candidate `index` may be chosen for this request (not cooling down, not
/// already tried). Implemented by the caller; no allocation on the request path.
class CandidateFilter {
 public:
  virtual ~CandidateFilter() = default;
  virtual bool allowed(std::size_t index) const = 0;
};

/// Chooses one of a route's healthy targets for a request. Built once per snapshot, used
/// concurrently by every request thread: pick() is thread-safe and lock-free.
class Balancer {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  virtual ~Balancer() = default;
  /// `clientKey` is the client IP (ip_hash uses it). Returns an index into the targets the
  /// balancer was built with for which filter.allowed() is true, or npos when none is.
  virtual std::size_t pick(std::string_view clientKey, const CandidateFilter& filter) = 0;
};

/// Route-level balancer state that survives snapshot swaps (kept per route prefix).
struct BalancerState {
  std::atomic<std::uint64_t> cursor{0};  // round-robin position; least_conn tie-break
};

/// The balancer of `kind` over `targets` (the route's healthy targets, in stored order).
std::unique_ptr<Balancer> makeBalancer(BalancerKind kind,
                                       std::vector<std::shared_ptr<TargetState>> targets,
                                       std::shared_ptr<BalancerState> state);

}  // namespace portico
