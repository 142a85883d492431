#pragma once

#include <atomic>

#include "balance/ClientBuckets.h"
#include "balance/TokenBucket.h"

namespace portico {

/// Runtime state of one route that outlives snapshot swaps, like TargetState: the route table
/// hands the same object to every snapshot of the same prefix. Shared by every event loop, so
/// each member is an atomic (or, for the per-client buckets, striped).
struct RouteState {
  /// Requests in flight over the route (counted only when a policy needs it: maxRequests,
  /// retries' budget).
  std::atomic<int> inFlight{0};
  /// Of those, the ones on a retry (the budget's numerator).
  std::atomic<int> retriesInFlight{0};
  /// rateLimit by "route".
  TokenBucket bucket;
  /// rateLimit by "client".
  ClientBuckets clients;
};

}  // namespace portico
