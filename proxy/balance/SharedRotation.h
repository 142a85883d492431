#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "balance/RoundRobinBalancer.h"

namespace portico {

/// round_robin as a route table runs it: one smooth weighted sequence per route, shared by every
/// event loop, so N requests in a row over N equal targets reach each once whichever loops take
/// them (per-loop rotations gave CAABCABCBC... over three targets). The sequence is nginx's
/// smooth weighted round robin over the weights, computed once when the balancer is built; a
/// pick takes the next position from one atomic counter (no lock) and walks on past candidates
/// the filter rejects.
///
/// While a target ramps up (slow start) the effective weights change from pick to pick, which
/// no fixed sequence follows: until the last ramp ends each loop runs its own rotation, as the
/// plain RoundRobinBalancer does. A sequence longer than kMaxSequence (large, coprime weights
/// over many targets) does the same. A target back from an outlier ejection ramps again
/// (TargetState::returnedAtMs) without a new snapshot: the sequence then skips its slots at
/// the ramp's rate (thinnedOut), so it gets 10 % of its share at first and all of it at the end.
class SharedRotation : public RoundRobinBalancer {
 public:
  static constexpr std::size_t kMaxSequence = 1u << 16;

  SharedRotation(std::vector<Candidate> candidates, SlowStart slowStart);
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter, PickState& state,
                   std::int64_t nowMs) const override;

  /// The precomputed order (candidate indexes), empty when the per-loop rotation is used.
  const std::vector<std::uint32_t>& sequence() const { return sequence_; }

 private:
  /// Whether this draw passes candidate over because it is ramping back after an ejection.
  bool thinnedOut(std::size_t candidate, std::uint64_t draw, std::int64_t nowMs) const;

  std::vector<std::uint32_t> sequence_;
  std::int64_t rampsEndMs_{0};  // steady ms after which no candidate is ramping up
  // Not on a cache line of its own: every pick takes a position here and then reads the fields
  // above, so a pick moves this line between cores either way (the fields ride along with it);
  // the padding bought no fewer transfers and took ~100 bytes per route (issue 22).
  mutable std::atomic<std::uint64_t> next_{0};
};

}  // namespace portico
