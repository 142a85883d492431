#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/LeaseSlices.h"

namespace portico {

class SqlTransaction;

/// The SQL of the health-check leases (the `sidecars` and `health_leases` tables), the same on
/// both databases, each statement within the caller's transaction. Times are the store's
/// clock in milliseconds since the Unix epoch. A statement that acts on what an earlier read
/// found re-checks it: another sidecar may have moved in between.

/// A renewal's view of the clock: now, when the leases it extends expire, and how many
/// sidecars are live (itself included).
struct LeaseClock {
  std::int64_t now{};
  std::int64_t expires{};
  std::int64_t live{};
};

/// Records `holder` as a live sidecar until now + `ttl` and forgets the sidecars expired.
LeaseClock enlistSidecar(SqlTransaction& tx, const std::string& holder,
                         std::chrono::milliseconds ttl);
/// How many targets are checked (not disabled).
std::int64_t countCheckedTargets(SqlTransaction& tx);
/// The leases nobody may keep, ascending: expired at `now`, or on a disabled target.
std::vector<std::int64_t> staleLeases(SqlTransaction& tx, std::int64_t now);
/// Deletes the leases in `range` that are stale still.
void dropStaleLeases(SqlTransaction& tx, const IdRange& range, std::int64_t now);
/// Extends to `clock.expires` at most `limit` of `holder`'s unexpired leases with ids above
/// `after`, the lowest first; returns their ids.
std::vector<std::int64_t> extendLeases(SqlTransaction& tx, const std::string& holder,
                                       const LeaseClock& clock, std::int64_t after,
                                       std::size_t limit);
/// Gives up `holder`'s leases in `range`.
void releaseLeaseRange(SqlTransaction& tx, const std::string& holder, const IdRange& range);
/// Targets nobody holds an unexpired lease on, not disabled: at most `limit`, ascending.
std::vector<std::int64_t> freeTargets(SqlTransaction& tx, std::int64_t now, std::size_t limit);
/// Takes for `holder` the targets in `range` that are free (at most range.count); returns
/// their ids.
std::vector<std::int64_t> takeFreeTargets(SqlTransaction& tx, const std::string& holder,
                                          const LeaseClock& clock, const IdRange& range);
/// Takes for `holder`, until now + `ttl`, each of `ids` (ascending, no repeats) that is free;
/// returns those taken.
std::vector<std::int64_t> claimTargets(SqlTransaction& tx, const std::string& holder,
                                       const std::vector<std::int64_t>& ids,
                                       std::chrono::milliseconds ttl);
/// Gives up every lease of `holder` and its live-sidecar row.
void releaseAllLeases(SqlTransaction& tx, const std::string& holder);

}  // namespace portico
