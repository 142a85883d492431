#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace portico {

/// How many lease rows one transaction touches at most. A renewal of 50,000 leases in one
/// transaction held SQLite's write lock for tens of milliseconds every quarter of the lease
/// timeout, and an admin write queued behind it waited as long; in slices it waits for one.
constexpr std::size_t kLeaseSlice = 1000;

/// The ids [first, last] (closed) one slice of lease rows spans.
struct IdRange {
  std::int64_t first{};
  std::int64_t last{};
  std::size_t count{};  // how many of the ids sliced fall in it
  bool operator==(const IdRange& o) const {
    return first == o.first && last == o.last && count == o.count;
  }
};

/// `sortedIds` (ascending, no repeats) cut into consecutive runs of at most `perSlice` ids
/// (at least 1), each as the range it spans; none for no ids.
std::vector<IdRange> sliceIds(const std::vector<std::int64_t>& sortedIds, std::size_t perSlice);

/// What a renewal does to spread the targets evenly over the live sidecars: a holder's fair
/// share is ceil(targets / live) (all of them with no live sidecar counted); above it, it gives
/// up the excess, below it, it takes free targets up to it.
struct LeaseBalance {
  std::size_t release{0};
  std::size_t take{0};
  bool operator==(const LeaseBalance& o) const { return release == o.release && take == o.take; }
};
LeaseBalance balanceLeases(std::size_t held, std::int64_t targets, std::int64_t live);

}  // namespace portico
