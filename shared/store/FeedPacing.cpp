#include "store/FeedPacing.h"

#include <algorithm>
#include <cassert>

namespace portico {

FeedPacing::FeedPacing(std::chrono::milliseconds least, std::chrono::milliseconds most, int factor)
    : least_(least), most_(most), factor_(factor) {
  assert(least.count() >= 0 && least <= most && factor >= 0);
}

FeedPacing::Clock::time_point FeedPacing::next(Clock::time_point start,
                                               Clock::time_point end) const {
  // A clock read out of order (end before start) counts as a read that took no time.
  const auto took = std::max(end - start, Clock::duration::zero());
  const Clock::duration gap = std::clamp<Clock::duration>(took * factor_, least_, most_);
  return end + gap;
}

std::optional<std::chrono::milliseconds> FeedPacing::recheck(int attempt) {
  constexpr int kRechecks = 5;  // 31 ms in all: a commit's sync seldom takes longer
  if (attempt < 0 || attempt >= kRechecks) return std::nullopt;
  return std::chrono::milliseconds(1 << attempt);
}

}  // namespace portico
