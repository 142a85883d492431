#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "Balancer.h"

namespace portico {

/// ip_hash: consistent hashing of the client key onto a ring of virtual nodes keyed by each
/// target's canonical URL, so a client keeps its target while the set is unchanged and adding
/// or removing one of n targets moves only about 1/n of clients. A target the filter rejects
/// passes its clients to the next target clockwise; nobody else moves.
class IpHashBalancer : public Balancer {
 public:
  static constexpr std::size_t kVirtualNodes = 160;

  explicit IpHashBalancer(std::vector<std::shared_ptr<TargetState>> targets);
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter) override;

  /// The 64-bit hash used for ring points and client keys: FNV-1a, then the splitmix64
  /// finalizer (FNV alone clusters short, similar keys such as IPs).
  static std::uint64_t hash(std::string_view key);

 private:
  struct Point {
    std::uint64_t hash;
    std::uint32_t target;
  };

  std::vector<std::shared_ptr<TargetState>> targets_;
  std::vector<Point> ring_;  // sorted by hash
};

}  // namespace portico
