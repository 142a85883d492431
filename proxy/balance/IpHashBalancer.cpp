#include "balance/IpHashBalancer.h"

#include <algorithm>
#include <string>

namespace portico {
namespace {

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

std::uint64_t IpHashBalancer::hash(std::string_view key) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return mix(h);
}

IpHashBalancer::IpHashBalancer(std::vector<Candidate> candidates, SlowStart slowStart,
                               int weightScale)
    : Balancer(std::move(candidates), slowStart) {
  std::uint64_t scale = weightScale > 0 ? static_cast<std::uint64_t>(weightScale) : 0;
  std::uint64_t weights = 0;
  for (const auto& c : candidates_) {
    scale = std::max<std::uint64_t>(scale, static_cast<std::uint64_t>(c.weight));
    weights += static_cast<std::uint64_t>(c.weight);
  }
  scale = std::max<std::uint64_t>(scale, 1);
  // Points at the scale weight, fewer for a route so large that the ring would pass its cap.
  std::uint64_t atScale = kPointsAtScale;
  if (weights > 0 && weights * atScale / scale > kMaxRingPoints)
    atScale = std::max<std::uint64_t>(1, kMaxRingPoints * scale / weights);
  auto pointsFor = [&](int weight) -> std::size_t {
    const auto w = static_cast<std::uint64_t>(std::max(weight, 0));
    return static_cast<std::size_t>(std::max<std::uint64_t>(1, (w * atScale + scale / 2) / scale));
  };
  std::size_t total = 0;
  for (const auto& c : candidates_) total += pointsFor(c.weight);
  ring_.reserve(total);
  for (std::size_t t = 0; t < candidates_.size(); ++t) {
    // Points depend only on the URL and the weight, never on the index: the ring stays put for
    // the targets that remain when another one comes or goes, whatever order the snapshot
    // lists them in, and a weight change adds or removes only that target's last points.
    const std::string& url = candidates_[t].target->url.canonical;
    const std::string base = url + "#";
    const std::size_t points = pointsFor(candidates_[t].weight);
    for (std::size_t v = 0; v < points; ++v)
      ring_.push_back({hash(base + std::to_string(v)), static_cast<std::uint32_t>(t)});
    salt_.push_back(hash(url + "/slow-start"));
  }
  std::sort(ring_.begin(), ring_.end(), [this](const Point& a, const Point& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return candidates_[a.target].target->url.canonical <
           candidates_[b.target].target->url.canonical;
  });
}

bool IpHashBalancer::keeps(std::size_t target, std::uint64_t clientHash, std::int64_t nowMs) const {
  const std::int64_t permille = slowStart_.permille(candidates_[target], nowMs);
  if (permille >= 1000) return true;
  return static_cast<std::int64_t>(mix(clientHash ^ salt_[target]) % 1000) < permille;
}

std::size_t IpHashBalancer::pick(std::string_view clientKey, const CandidateFilter& filter,
                                 PickState&, std::int64_t nowMs) const {
  if (ring_.empty()) return npos;
  // Settle "none allowed" in O(n) so the ring walk below always ends at an allowed target.
  bool any = false;
  for (std::size_t t = 0; t < candidates_.size() && !any; ++t) any = filter.allowed(t);
  if (!any) return npos;

  const std::uint64_t h = hash(clientKey);
  auto it = std::lower_bound(ring_.begin(), ring_.end(), h,
                             [](const Point& p, std::uint64_t value) { return p.hash < value; });
  std::size_t pos = static_cast<std::size_t>(it - ring_.begin());
  std::size_t firstAllowed = npos;
  for (std::size_t step = 0; step < ring_.size(); ++step, ++pos) {
    if (pos == ring_.size()) pos = 0;
    const std::size_t target = ring_[pos].target;
    if (!filter.allowed(target)) continue;
    if (keeps(target, h, nowMs)) return target;
    if (firstAllowed == npos) firstAllowed = target;
  }
  // Every allowed target is ramping up and this client fell outside each ramp: the first one
  // clockwise takes it anyway.
  return firstAllowed;
}

}  // namespace portico
