#include "balance/LeastConnBalancer.h"

namespace portico {

std::size_t LeastConnBalancer::pick(std::string_view, const CandidateFilter& filter,
                                    PickState& state, std::int64_t nowMs) const {
  const std::size_t n = candidates_.size();
  if (n == 0) return npos;
  // First pass: the lowest in-flight / weight, and whether others tie with it.
  std::size_t best = npos;
  std::int64_t bestLoad = 0;
  std::int64_t bestWeight = 1;
  bool tied = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!filter.allowed(i)) continue;
    const std::int64_t load = candidates_[i].target->inFlight.load(std::memory_order_relaxed);
    const std::int64_t weight = slowStart_.effective(candidates_[i], nowMs);
    if (best == npos || load * bestWeight < bestLoad * weight) {
      best = i;
      bestLoad = load;
      bestWeight = weight;
      tied = false;
    } else if (load * bestWeight == bestLoad * weight) {
      tied = true;
    }
  }
  if (!tied) return best;
  // Second pass: smooth weighted round robin among the tied. Other threads move the counts
  // meanwhile; if none ties any more, the first pass's answer stands.
  std::int64_t* current = state.weightsFor(n);
  std::int64_t total = 0;
  std::size_t chosen = npos;
  std::size_t i = static_cast<std::size_t>(state.seed() % n);
  for (std::size_t k = 0; k < n; ++k, i = (i + 1 == n ? 0 : i + 1)) {
    if (!filter.allowed(i)) continue;
    const std::int64_t load = candidates_[i].target->inFlight.load(std::memory_order_relaxed);
    const std::int64_t weight = slowStart_.effective(candidates_[i], nowMs);
    if (load * bestWeight != bestLoad * weight) continue;
    current[i] += weight;
    total += weight;
    if (chosen == npos || current[i] > current[chosen]) chosen = i;
  }
  if (chosen == npos) return best;
  current[chosen] -= total;
  return chosen;
}

}  // namespace portico
