#include "store/FeedPacing.h"

#include <algorithm>
#include <cassert>

namespace portico {

FeedPacing::FeedPacing(std::chrono::milliseconds least, std::chrono::milliseconds most, int factor)
    : least_(least), most_(most), factor_(factor) {
  assert(least.count() >= 0 && least <= most && factor >= 0);
}

FeedPacing::Clock::time_point FeedPacing::next(Clock::time_point end, Clock::duration cost) const {
  // A negative cost (clocks read out of order) counts as a read that cost nothing.
  const auto spent = std::max(cost, Clock::duration::zero());
  const Clock::duration gap = std::clamp<Clock::duration>(spent * factor_, least_, most_);
  return end + gap;
}

std::optional<std::chrono::milliseconds> FeedPacing::recheck(int attempt) {
  constexpr int kRechecks = 5;  // 31 ms in all: a commit's sync seldom takes longer
  if (attempt < 0 || attempt >= kRechecks) return std::nullopt;
  return std::chrono::milliseconds(1 << attempt);
}

}  // namespace portico
