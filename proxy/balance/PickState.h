#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace portico {

/// The mutable side of choosing targets, owned by the caller: one per event loop (or thread),
/// never used by two threads at once, so picking takes no lock and shares no cache line.
/// Balancers are immutable and shared by every loop; this holds where one loop's rotation
/// stands (smooth weighted round robin's current weights, also least_conn's tie-break).
///
/// A state that meets a balancer over a different number of candidates (a new snapshot)
/// starts afresh; with the same number it carries on, which smooth weighted round robin
/// tolerates (its current weights always sum to zero, whatever the weights were).
class PickState {
 public:
  /// `seed` staggers where loops start: with equal weights, a fresh state's first pick is
  /// candidate seed % n, so many loops do not all begin with the same target.
  explicit PickState(std::uint64_t seed = 0) : seed_(seed) { current_.reserve(16); }

  /// The current weights for a balancer over `n` candidates (zeros when `n` changed).
  /// Allocates only when a snapshot grows the route past the capacity seen so far.
  std::int64_t* weightsFor(std::size_t n) {
    if (current_.size() != n) current_.assign(n, 0);
    return current_.data();
  }
  std::uint64_t seed() const { return seed_; }

 private:
  std::vector<std::int64_t> current_;
  std::uint64_t seed_;
};

/// One event loop's (or thread's) PickState for every route, by Route::slot (a route keeps its
/// slot across snapshots, so its rotation carries on over reloads).
class PickStates {
 public:
  /// Seeded from a process-wide counter, so each loop starts its rotations elsewhere.
  PickStates();
  explicit PickStates(std::uint64_t seed) : seed_(seed) {}

  /// The state for route slot `slot`; allocates only the first time a slot is seen.
  PickState& at(std::size_t slot) {
    if (slot >= states_.size()) {
      states_.reserve(slot + 1);
      while (states_.size() <= slot) states_.emplace_back(seed_ + states_.size());
    }
    return states_[slot];
  }

 private:
  std::uint64_t seed_;
  std::vector<PickState> states_;
};

}  // namespace portico
