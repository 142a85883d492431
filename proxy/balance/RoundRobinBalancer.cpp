#include "balance/RoundRobinBalancer.h"

namespace portico {

std::size_t RoundRobinBalancer::pick(std::string_view, const CandidateFilter& filter,
                                     PickState& state, std::int64_t nowMs) const {
  const std::size_t n = candidates_.size();
  if (n == 0) return npos;
  std::int64_t* current = state.weightsFor(n);
  std::int64_t total = 0;
  std::size_t best = npos;
  // Scanning from the state's seed only matters for ties: it staggers where loops start.
  std::size_t i = static_cast<std::size_t>(state.seed() % n);
  for (std::size_t k = 0; k < n; ++k, i = (i + 1 == n ? 0 : i + 1)) {
    if (!filter.allowed(i)) continue;
    const std::int64_t weight = slowStart_.effective(candidates_[i], nowMs);
    current[i] += weight;
    total += weight;
    if (best == npos || current[i] > current[best]) best = i;
  }
  if (best != npos) current[best] -= total;
  return best;
}

}  // namespace portico
