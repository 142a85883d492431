#include "balance/TokenBucket.h"

#include <algorithm>
#include <cassert>

namespace portico {
namespace {

constexpr std::int64_t kSecondUs = 1000000;

std::int64_t ceilSeconds(std::int64_t us) {
  return us <= 0 ? 0 : (us + kSecondUs - 1) / kSecondUs;
}

}  // namespace

TokenBucket::Verdict TokenBucket::take(std::int64_t nowUs, std::int64_t rate,
                                       std::int64_t capacity) {
  assert(rate >= 1 && capacity >= 1);
  const std::int64_t interval = std::max<std::int64_t>(1, kSecondUs / rate);
  // The bucket may run this far ahead of `now` and still hold a token.
  const std::int64_t tolerance = (capacity - 1) * interval;
  Verdict v;
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t from = std::max(tat, nowUs);
    if (from - nowUs > tolerance) {
      v.allowed = false;
      v.remaining = 0;
      v.retryAfterSeconds = std::max<std::int64_t>(1, ceilSeconds(from - nowUs - tolerance));
      v.resetSeconds = std::max<std::int64_t>(1, ceilSeconds(from - nowUs));
      return v;
    }
    const std::int64_t next = from + interval;
    if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) {
      v.remaining = std::max<std::int64_t>(0, (tolerance + interval - (next - nowUs)) / interval);
      v.resetSeconds = ceilSeconds(next - nowUs);
      return v;
    }
  }
}

}  // namespace portico
