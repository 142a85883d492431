#pragma once

#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace portico {

/// Why a failed attempt may be tried again on another target (Envoy's retry_on, nginx's
/// proxy_next_upstream), as bits of RetryPolicy::on.
enum RetryReason : unsigned {
  kRetryConnectFailure = 1u << 0,
  kRetryReset = 1u << 1,
  kRetryTimeout = 1u << 2,
  kRetry502 = 1u << 3,
  kRetry503 = 1u << 4,
  kRetry504 = 1u << 5,
};
/// "connect-failure", "reset", "timeout", "502", "503", "504" (the API's and the metric's names).
const char* retryReasonName(RetryReason reason);
/// The reason bit of an answer status, or 0 when the status is none of 502/503/504.
unsigned retryReasonOfStatus(int status);

/// `retries`: further attempts on other targets after a failed one.
struct RetryPolicy {
  static constexpr int kMaxAttempts = 5;
  static constexpr unsigned kAllReasons = 0x3f;
  int attempts{0};  // 0: off (a refused connect still moves on, as without the policy)
  unsigned on{kAllReasons};
  std::chrono::milliseconds perTryTimeout{0};  // 0: proxy.read_timeout
  int budgetPercent{20};
  bool nonIdempotent{false};

  bool enabled() const { return attempts > 0; }
  bool retriesOn(RetryReason r) const { return (on & r) != 0; }
  bool operator==(const RetryPolicy& o) const;
};

/// `outlierDetection`: a target failing `consecutiveErrors` times in a row is ejected.
struct OutlierPolicy {
  int consecutiveErrors{0};    // 0: off (a refused target is passed over for the fixed cooldown)
  bool anyServerError{false};  // errors "5xx" (true) or "gateway" (false)
  std::chrono::milliseconds baseEjectionTime{30000};
  int maxEjectionPercent{50};

  bool enabled() const { return consecutiveErrors > 0; }
  bool operator==(const OutlierPolicy& o) const;
};

/// `rateLimit`: a token bucket per client address or for the whole route.
struct RateLimitPolicy {
  int requestsPerSecond{0};  // 0: off
  int burst{0};              // extra requests above the rate a full bucket allows
  bool byClient{true};       // by "client" (true) or "route"

  bool enabled() const { return requestsPerSecond > 0; }
  bool operator==(const RateLimitPolicy& o) const;
};

/// How a route protects its targets and itself (issue #20): the route body fields `retries`,
/// `outlierDetection`, `maxRequests` and `rateLimit`. A member of RoutePolicies; every default
/// is off, which is the proxy's behaviour without the policy.
struct ResiliencePolicy {
  static constexpr int kMaxRequests = 1000000;
  RetryPolicy retries;
  OutlierPolicy outlier;
  int maxRequests{0};  // in flight over the whole route, this proxy; 0: unlimited
  RateLimitPolicy rateLimit;

  static const std::set<std::string>& fields();
  void read(const Poco::JSON::Object& body);
  void write(Poco::JSON::Object& out) const;
  bool operator==(const ResiliencePolicy& o) const;
};

}  // namespace portico
