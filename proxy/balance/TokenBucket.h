#pragma once

#include <atomic>
#include <cstdint>

namespace portico {

/// A token bucket as one atomic number, the generic cell rate algorithm (GCRA, as in ATM and
/// redis-cell): `tat` is when the bucket will next be full (the theoretical arrival time); a
/// request at `now` is admitted when taking one token leaves the bucket no emptier than
/// allowed, and moves `tat` one interval (1/rate) on. A compare-and-swap makes it hold across
/// every event loop without a lock: N loops admit the rate once, not N times.
///
/// The bucket holds `capacity` tokens (a burst of that many at once) and refills at `rate` per
/// second; it starts full. Pure logic: the caller passes the clock (microseconds, any epoch).
class TokenBucket {
 public:
  struct Verdict {
    bool allowed{true};
    std::int64_t remaining{0};     // tokens left after this request
    std::int64_t resetSeconds{0};  // until the bucket is full again (whole seconds, rounded up)
    std::int64_t retryAfterSeconds{0};  // refused: until a token is back (at least 1)
  };

  /// Takes a token at `nowUs` from a bucket of `capacity` (≥ 1) refilled at `rate` (≥ 1) a second.
  Verdict take(std::int64_t nowUs, std::int64_t rate, std::int64_t capacity);

 private:
  std::atomic<std::int64_t> tat_{0};
};

}  // namespace portico
