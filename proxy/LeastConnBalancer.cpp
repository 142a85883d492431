#include "LeastConnBalancer.h"

#include <limits>

namespace portico {

LeastConnBalancer::LeastConnBalancer(std::vector<std::shared_ptr<TargetState>> targets,
                                     std::shared_ptr<BalancerState> state)
    : targets_(std::move(targets)), state_(std::move(state)) {}

std::size_t LeastConnBalancer::pick(std::string_view, const CandidateFilter& filter) {
  const std::size_t n = targets_.size();
  if (n == 0) return npos;
  const std::uint64_t start = state_->cursor.fetch_add(1, std::memory_order_relaxed);
  std::size_t best = npos;
  int bestLoad = std::numeric_limits<int>::max();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t index = static_cast<std::size_t>((start + i) % n);
    if (!filter.allowed(index)) continue;
    const int load = targets_[index]->inFlight.load(std::memory_order_relaxed);
    if (load < bestLoad) {  // strict: the first of equals in scan order wins, so ties rotate
      best = index;
      bestLoad = load;
    }
  }
  return best;
}

}  // namespace portico
