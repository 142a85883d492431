#include "balance/SharedRotation.h"

#include <algorithm>
#include <numeric>

namespace portico {
namespace {

/// nginx's smooth weighted round robin over `weights`, one full period (Σweights / gcd picks),
/// or empty when that is longer than `limit`.
std::vector<std::uint32_t> smoothSequence(const std::vector<int>& weights, std::size_t limit) {
  int divisor = 0;
  for (const int w : weights) divisor = std::gcd(divisor, w);
  if (divisor <= 0) return {};
  std::vector<std::int64_t> scaled(weights.size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) total += scaled[i] = weights[i] / divisor;
  if (total <= 0 || static_cast<std::size_t>(total) > limit) return {};
  std::vector<std::uint32_t> sequence;
  sequence.reserve(static_cast<std::size_t>(total));
  std::vector<std::int64_t> current(weights.size(), 0);
  for (std::int64_t k = 0; k < total; ++k) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < current.size(); ++i) {
      current[i] += scaled[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    sequence.push_back(static_cast<std::uint32_t>(best));
  }
  return sequence;
}

}  // namespace

bool SharedRotation::thinnedOut(std::size_t candidate, std::uint64_t draw,
                                std::int64_t nowMs) const {
  if (slowStart_.windowMs() <= 0) return false;
  const std::int64_t permille = slowStart_.permille(candidates_[candidate], nowMs);
  if (permille >= 1000) return false;
  // A fixed sequence cannot follow a weight that changes from pick to pick; a target ramping
  // back after an ejection keeps its slots but takes each with the ramp's share, decided by a
  // hash of the draw (Fibonacci hashing) so the skips spread evenly over the sequence.
  const std::uint64_t spread = (draw * 0x9E3779B97F4A7C15ull) >> 32;
  return static_cast<std::int64_t>(spread % 1000) >= permille;
}

SharedRotation::SharedRotation(std::vector<Candidate> candidates, SlowStart slowStart)
    : RoundRobinBalancer(std::move(candidates), slowStart) {
  std::vector<int> weights;
  for (const auto& c : candidates_) {
    weights.push_back(c.weight);
    if (slowStart_.windowMs() > 0 && c.warmFromMs != Candidate::kWarm)
      rampsEndMs_ = std::max(rampsEndMs_, c.warmFromMs + slowStart_.windowMs());
  }
  sequence_ = smoothSequence(weights, kMaxSequence);
}

std::size_t SharedRotation::pick(std::string_view clientKey, const CandidateFilter& filter,
                                 PickState& state, std::int64_t nowMs) const {
  const std::size_t n = sequence_.size();
  if (n == 0 || nowMs < rampsEndMs_)
    return RoundRobinBalancer::pick(clientKey, filter, state, nowMs);
  const std::uint64_t draw = next_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t start = static_cast<std::size_t>(draw % n);
  // A long sequence over few allowed candidates is not walked to its end: past a few rounds'
  // worth, the first allowed candidate will do (the request was going to be refused or retried).
  const std::size_t walk = std::min(n, 4 * candidates_.size());
  for (std::size_t k = 0, i = start; k < walk; ++k, i = (i + 1 == n ? 0 : i + 1)) {
    const std::size_t candidate = sequence_[i];
    if (filter.allowed(candidate) && !thinnedOut(candidate, draw + k, nowMs)) return candidate;
  }
  for (std::size_t c = 0; c < candidates_.size(); ++c)
    if (filter.allowed(c)) return c;
  return npos;
}

}  // namespace portico
