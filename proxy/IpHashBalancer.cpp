#include "IpHashBalancer.h"

#include <algorithm>
#include <string>

namespace portico {

std::uint64_t IpHashBalancer::hash(std::string_view key) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

IpHashBalancer::IpHashBalancer(std::vector<std::shared_ptr<TargetState>> targets)
    : targets_(std::move(targets)) {
  ring_.reserve(targets_.size() * kVirtualNodes);
  for (std::size_t t = 0; t < targets_.size(); ++t) {
    // Points depend only on the URL, never on the index: the ring stays put for the targets
    // that remain when another one comes or goes, whatever order the snapshot lists them in.
    const std::string base = targets_[t]->url.canonical + "#";
    for (std::size_t v = 0; v < kVirtualNodes; ++v)
      ring_.push_back({hash(base + std::to_string(v)), static_cast<std::uint32_t>(t)});
  }
  std::sort(ring_.begin(), ring_.end(), [this](const Point& a, const Point& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return targets_[a.target]->url.canonical < targets_[b.target]->url.canonical;
  });
}

std::size_t IpHashBalancer::pick(std::string_view clientKey, const CandidateFilter& filter) {
  if (ring_.empty()) return npos;
  // Settle "none allowed" in O(n) so the ring walk below always ends at an allowed target.
  bool any = false;
  for (std::size_t t = 0; t < targets_.size() && !any; ++t) any = filter.allowed(t);
  if (!any) return npos;

  const std::uint64_t h = hash(clientKey);
  auto it = std::lower_bound(ring_.begin(), ring_.end(), h,
                             [](const Point& p, std::uint64_t value) { return p.hash < value; });
  std::size_t pos = static_cast<std::size_t>(it - ring_.begin());
  for (std::size_t step = 0; step < ring_.size(); ++step, ++pos) {
    if (pos == ring_.size()) pos = 0;
    if (filter.allowed(ring_[pos].target)) return ring_[pos].target;
  }
  return npos;
}

}  // namespace portico
