#include "RoundRobinBalancer.h"

namespace portico {

RoundRobinBalancer::RoundRobinBalancer(std::vector<std::shared_ptr<TargetState>> targets,
                                       std::shared_ptr<BalancerState> state)
    : targets_(std::move(targets)), state_(std::move(state)) {}

std::size_t RoundRobinBalancer::pick(std::string_view, const CandidateFilter& filter) {
  const std::size_t n = targets_.size();
  if (n == 0) return npos;
  const std::uint64_t start = state_->cursor.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t skipped = 0; skipped < n; ++skipped) {
    const std::size_t index = static_cast<std::size_t>((start + skipped) % n);
    if (!filter.allowed(index)) continue;
    // Move the cursor past the candidates skipped here too; otherwise the target after a
    // cooling-down one would take its turns as well as its own (2/3 vs 1/3 with one of three out).
    if (skipped > 0) state_->cursor.fetch_add(skipped, std::memory_order_relaxed);
    return index;
  }
  return npos;
}

}  // namespace portico
