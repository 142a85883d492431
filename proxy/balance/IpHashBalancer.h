#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "balance/Balancer.h"

namespace portico {

/// ip_hash: consistent hashing of the client key onto a ring of virtual nodes keyed by each
/// target's canonical URL, so a client keeps its target while the set is unchanged and adding
/// or removing one of n targets moves only about 1/n of clients. A target the filter rejects
/// passes its clients to the next target clockwise; nobody else moves.
///
/// Ring points are in proportion to weight, measured against the route's largest weight
/// (`weightScale`, which the route table takes over all its targets, in rotation or not, so a
/// target going down or draining does not resize anyone's share): the heaviest target gets
/// kPointsAtScale points. So shares follow weights within about a percent whatever their
/// absolute size (1:3 as well as 100:300), and changing one target's weight below the
/// largest adds or removes only that target's last points.
///
/// During a target's slow start only the share of its clients that its ramp has reached stays
/// on it (decided by a second hash of the client, so the same clients stay); the others go on
/// clockwise.
class IpHashBalancer : public Balancer {
 public:
  static constexpr std::size_t kPointsAtScale = 1280;
  static constexpr std::size_t kMaxRingPoints = std::size_t(1) << 21;  // ~32 MiB per route

  /// `weightScale` 0: the largest candidate weight.
  IpHashBalancer(std::vector<Candidate> candidates, SlowStart slowStart, int weightScale = 0);
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter, PickState& state,
                   std::int64_t nowMs) const override;

  /// The 64-bit hash used for ring points and client keys: FNV-1a, then the splitmix64
  /// finalizer (FNV alone clusters short, similar keys such as IPs).
  static std::uint64_t hash(std::string_view key);

 private:
  struct Point {
    std::uint64_t hash;
    std::uint32_t target;
  };

  bool keeps(std::size_t target, std::uint64_t clientHash, std::int64_t nowMs) const;

  std::vector<Point> ring_;          // sorted by hash
  std::vector<std::uint64_t> salt_;  // per candidate, from its URL: the slow-start draw
};

}  // namespace portico
