#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "health/HealthState.h"
#include "health/PackedTargetUrl.h"
#include "health/Probe.h"
#include "model/Model.h"
#include "model/Normalize.h"
#include "observe/ProbeCounts.h"

namespace portico {

/// One probe to run: which target, with which settings, for which due time.
struct HealthJob {
  std::int64_t targetId{};
  std::uint64_t generation{};  // tells a result for a replaced target from a current one
  TargetUrl target;
  HealthSpec spec;
  std::chrono::steady_clock::time_point due;
  std::string prefix;  // the route's, for metrics labels
  /// The route's host ("" any): an exact one is the Host an http probe sends (the target hosts
  /// that site, as the proxy's requests, which keep their Host, reach it) ...
  std::string host;
  /// ... unless the route sends the target's own host[:port] (preserveHost false).
  bool preserveHost{true};
};

/// A verdict the store does not hold yet (a transition to write and log).
struct HealthVerdict {
  std::int64_t targetId{};
  std::uint64_t generation{};
  std::string prefix;
  std::string host;  // the route's ("" any host), for metrics labels and the log
  std::string url;
  bool healthy{true};
  std::string error;  // empty when healthy
};

/// What is due when, and each target's fall/rise state: the checker's decisions as pure logic
/// over explicit time points (no threads, no clock, no I/O), so tests drive it step by step.
///
/// Targets are keyed by store id. Targets present at the first sync that were checked before
/// (a restart) keep their stored verdict and are spread over their interval by a fixed phase
/// derived from the id; every target that appears later, or was never checked, is due at once.
/// After a probe the next one is due one interval after the previous due time (never in the
/// past), so phases hold and probes stay spread.
///
/// It also counts each target's probes (portico_health_checks_total): a target that leaves the
/// schedule hands its counts to a table by labels, so its series stays, as a metrics series
/// would, and goes on from there should the target come back.
class HealthSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  /// Brings the targets in line with a store snapshot: adds new ones, drops removed and disabled
  /// ones (a probe in flight for them is ignored when it completes), takes new health settings.
  /// Draining targets are checked like active ones.
  void sync(const std::vector<RouteRecord>& routes, TimePoint now);
  /// The same for part of the store: `routes` changed (their targets are brought in line as
  /// sync() would), `removed` are gone; other routes are not looked at, so a change costs what
  /// it touches however many targets there are.
  void apply(const std::vector<RouteRecord>& routes, const std::vector<RouteKey>& removed,
             TimePoint now);
  /// The probes due at `now`, earliest first and at most `limit`, marked in flight (a target
  /// never has two probes at once). Those left over stay due.
  std::vector<HealthJob> takeDue(TimePoint now,
                                 std::size_t limit = std::numeric_limits<std::size_t>::max());
  /// Counts a finished probe (a local failure not at all) and schedules the next one. Returns the
  /// verdict to store when the target's verdict differs from the stored one (assumed written from
  /// then on).
  std::optional<HealthVerdict> complete(const HealthJob& job, const ProbeResult& result,
                                        TimePoint now);
  /// A job that will not run after all (the checker stopped): due again at its old time.
  void release(const HealthJob& job);
  /// Every job in flight will not finish (the runner stopped): each due again at its old time.
  void releaseInFlight();
  /// A verdict could not be written: retry after the target's next probe.
  void storeFailed(std::int64_t targetId, std::uint64_t generation);

  /// The earliest due time of a target not in flight.
  std::optional<TimePoint> nextDue() const;
  std::size_t size() const { return entries_.size(); }
  bool contains(std::int64_t targetId) const { return entries_.count(targetId) != 0; }
  std::optional<TimePoint> dueOf(std::int64_t targetId) const;
  std::optional<bool> healthyOf(std::int64_t targetId) const;
  /// Every target's probe counts (those of targets gone included), by route, host and URL.
  void visitCounts(const ProbeCountSource::Visit& visit) const;

  /// Where in its interval a target's probes fall: the fractional part of id × golden ratio,
  /// so consecutive ids land far apart and any n ids cover the interval nearly evenly.
  static std::chrono::milliseconds phase(std::int64_t targetId, std::chrono::milliseconds interval);

 private:
  /// What a route's targets are checked with: one per route, shared by its targets' entries
  /// (a copy in each cost some 250 bytes a target).
  struct RouteCheck {
    std::int64_t routeId{};
    std::string prefix;
    std::string host;
    bool preserveHost{true};
    HealthSpec spec;
  };
  struct Entry {
    std::shared_ptr<const RouteCheck> route;
    PackedTargetUrl target;  // its canonical form is the stored URL
    std::uint64_t generation{};
    TimePoint due;
    HealthState state;
    ProbeCount probes;
    bool stored{true};  // the verdict the store holds, as far as we know
    bool inFlight{false};
  };
  /// A route's check and the ids of its targets in the schedule.
  struct RouteSlot {
    std::shared_ptr<const RouteCheck> check;
    std::vector<std::int64_t> ids;
  };
  using Labels = std::tuple<std::string, std::string, std::string>;  // route, host, target

  void add(const std::shared_ptr<const RouteCheck>& route, const TargetRecord& target,
           TimePoint due);
  void setDue(Entry& entry, std::int64_t id, TimePoint due);
  /// The route's check: `held`'s when it checks the same way, else a new one.
  static std::shared_ptr<const RouteCheck> checkOf(const RouteRecord& route, const RouteSlot* held);
  /// Brings one route's targets in line; returns the ids it keeps.
  std::vector<std::int64_t> syncRoute(const RouteRecord& route,
                                      const std::shared_ptr<const RouteCheck>& check,
                                      TimePoint now);
  /// Forgets a target (only if it is on route `onlyOn`, when given).
  void drop(std::int64_t id, const RouteKey* onlyOn = nullptr);
  /// Forgets the entry at `it`, its counts kept by label; returns the next.
  std::unordered_map<std::int64_t, Entry>::iterator erase(
      std::unordered_map<std::int64_t, Entry>::iterator it);

  std::unordered_map<std::int64_t, Entry> entries_;
  std::set<std::pair<TimePoint, std::int64_t>> dueIndex_;  // entries not in flight, by due time
  std::unordered_map<std::string, RouteSlot> byRoute_;     // by RouteKey::text()
  std::map<Labels, ProbeCount> retired_;  // the counts of targets no longer in the schedule
  std::uint64_t nextGeneration_{1};
  bool synced_{false};
};

}  // namespace portico
