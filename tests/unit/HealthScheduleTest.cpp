#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <random>
#include <set>

#include "health/HealthSchedule.h"

using namespace std::chrono_literals;
using portico::HealthJob;
using portico::HealthSchedule;
using portico::ProbeResult;
using portico::RouteRecord;
using portico::TargetRecord;
using TimePoint = HealthSchedule::TimePoint;

namespace {

const TimePoint t0 = TimePoint() + 1000h;  // an arbitrary origin for the injected clock

TargetRecord target(std::int64_t id, const std::string& url, bool healthy = true,
                    bool checkedBefore = false) {
  TargetRecord t;
  t.id = id;
  t.url = url;
  t.healthy = healthy;
  if (checkedBefore) t.lastCheckedAt = "2024-01-01T00:00:00.000Z";
  return t;
}

RouteRecord route(std::int64_t id, const std::string& prefix, std::vector<TargetRecord> targets,
                  std::chrono::milliseconds interval = 1s, int fall = 1, int rise = 1) {
  RouteRecord r;
  r.id = id;
  r.prefix = prefix;
  r.health.interval = interval;
  r.health.fall = fall;
  r.health.rise = rise;
  r.targets = std::move(targets);
  return r;
}

std::string url(int i) {
  return "http://127.0.0.1:9000/t" + std::to_string(i);
}

/// 1,000 targets over 50 routes, as at a restart when `checkedBefore`.
std::vector<RouteRecord> manyRoutes(bool checkedBefore, std::chrono::milliseconds interval) {
  std::vector<RouteRecord> routes;
  int id = 1;
  for (int r = 0; r < 50; ++r) {
    std::vector<TargetRecord> targets;
    for (int t = 0; t < 20; ++t, ++id) targets.push_back(target(id, url(id), true, checkedBefore));
    routes.push_back(route(r + 1, "/r" + std::to_string(r) + "/", targets, interval));
  }
  return routes;
}

std::vector<std::int64_t> ids(const std::vector<HealthJob>& jobs) {
  std::vector<std::int64_t> out;
  for (const auto& j : jobs) out.push_back(j.targetId);
  return out;
}

/// Every count the schedule holds, summed by "route|target".
std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> counts(const HealthSchedule& s) {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> out;
  s.visitCounts([&out](const std::string& route, const std::string& host, const std::string& target,
                       const portico::ProbeCount& count) {
    auto& sum = out[host + route + "|" + target];
    sum.first += count.success;
    sum.second += count.failure;
  });
  return out;
}

const ProbeResult ok = ProbeResult::success();
const ProbeResult refused = ProbeResult::failure("connect: Connection refused");

}  // namespace

/// What is due when, driven by an injected clock: spreading, new targets, removal, thresholds.
class HealthScheduleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthScheduleTest);
  CPPUNIT_TEST(testRestartSpreadsOverInterval);
  CPPUNIT_TEST(testNeverCheckedTargetsAreDueAtOnce);
  CPPUNIT_TEST(testProbeHostFollowsPreserveHost);
  CPPUNIT_TEST(testNewTargetDueImmediately);
  CPPUNIT_TEST(testOneProbeInFlightPerTarget);
  CPPUNIT_TEST(testSimulatedRunHoldsPhase);
  CPPUNIT_TEST(testFallingBehindProbesAgainSoon);
  CPPUNIT_TEST(testRemovedTargetNeverProbedAgain);
  CPPUNIT_TEST(testRemovedWhileInFlight);
  CPPUNIT_TEST(testDisabledNotProbedDrainingIs);
  CPPUNIT_TEST(testReusedIdIsANewTarget);
  CPPUNIT_TEST(testFallThreeThroughSchedule);
  CPPUNIT_TEST(testResumesStoredUnhealthy);
  CPPUNIT_TEST(testStoreFailureRetries);
  CPPUNIT_TEST(testIntervalChangeTakesEffectNow);
  CPPUNIT_TEST(testThresholdChangeApplies);
  CPPUNIT_TEST(testReleaseMakesJobDueAgain);
  CPPUNIT_TEST(testApplyEqualsSync);
  CPPUNIT_TEST(testProbesCountedPerTarget);
  CPPUNIT_TEST(testCountsOutliveTheTarget);
  CPPUNIT_TEST(testRouteSettingsReachEveryTarget);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRestartSpreadsOverInterval() {
    HealthSchedule s;
    s.sync(manyRoutes(true, 1s), t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1000), s.size());
    std::vector<int> buckets(10, 0);  // 100 ms each
    for (int id = 1; id <= 1000; ++id) {
      const auto offset = *s.dueOf(id) - t0;
      CPPUNIT_ASSERT(offset >= 0ms && offset < 1s);
      ++buckets[std::chrono::duration_cast<std::chrono::milliseconds>(offset).count() / 100];
    }
    for (int b : buckets) CPPUNIT_ASSERT_MESSAGE(std::to_string(b), b >= 90 && b <= 110);
    // Never a herd: no millisecond holds more than a handful of targets.
    std::map<long, int> perMs;
    for (int id = 1; id <= 1000; ++id)
      ++perMs[std::chrono::duration_cast<std::chrono::milliseconds>(*s.dueOf(id) - t0).count()];
    for (const auto& [ms, n] : perMs) CPPUNIT_ASSERT_MESSAGE(std::to_string(ms), n <= 3);
    CPPUNIT_ASSERT(s.takeDue(t0 - 1ms).empty());
    const auto firstTenth = s.takeDue(t0 + 99ms);
    CPPUNIT_ASSERT(firstTenth.size() >= 90 && firstTenth.size() <= 110);
  }

  void testNeverCheckedTargetsAreDueAtOnce() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1)), target(2, url(2), true, true)}, 1min)}, t0);
    CPPUNIT_ASSERT(*s.dueOf(1) == t0);
    CPPUNIT_ASSERT(*s.dueOf(2) > t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), s.takeDue(t0).size());
  }

  void testProbeHostFollowsPreserveHost() {
    // A host route's probes name its host only while its requests do (preserveHost true).
    auto keeps = route(1, "/a/", {target(1, url(1))}, 1min);
    keeps.host = "api.example.com";
    auto rewrites = route(2, "/b/", {target(2, url(2))}, 1min);
    rewrites.host = "api.example.com";
    rewrites.policies.request.preserveHost = false;
    HealthSchedule s;
    s.sync({keeps, rewrites}, t0);
    const auto jobs = s.takeDue(t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), jobs.size());
    for (const auto& job : jobs) {
      CPPUNIT_ASSERT_EQUAL(std::string("api.example.com"), job.host);
      CPPUNIT_ASSERT_EQUAL(job.targetId == 1, job.preserveHost);
    }
  }

  void testNewTargetDueImmediately() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1), true, true)}, 1min)}, t0);
    const auto before = *s.dueOf(1);
    const auto later = t0 + 5s;
    // Even one that was checked before (by an earlier run, or seen via another process).
    s.sync({route(1, "/a/", {target(1, url(1), true, true), target(2, url(2), true, true)}, 1min)},
           later);
    CPPUNIT_ASSERT(*s.dueOf(2) == later);
    CPPUNIT_ASSERT(*s.dueOf(1) == before);  // existing ones keep their phase
    CPPUNIT_ASSERT(ids(s.takeDue(later)) == std::vector<std::int64_t>{2});
  }

  void testOneProbeInFlightPerTarget() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms)}, t0);
    auto jobs = s.takeDue(t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), jobs.size());
    CPPUNIT_ASSERT(!s.nextDue());
    CPPUNIT_ASSERT(s.takeDue(t0 + 1s).empty());  // a slow probe is not doubled
    s.complete(jobs[0], ok, t0 + 10ms);
    CPPUNIT_ASSERT(*s.nextDue() == t0 + 100ms);
  }

  void testSimulatedRunHoldsPhase() {
    // Every target probed every interval exactly, with instant probes, over 10 intervals.
    HealthSchedule s;
    s.sync(manyRoutes(true, 1s), t0);
    std::map<std::int64_t, std::vector<TimePoint>> probed;
    for (auto now = t0; now < t0 + 10s; now += 1ms) {
      for (const auto& job : s.takeDue(now)) {
        probed[job.targetId].push_back(now);
        s.complete(job, ok, now);
      }
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(1000), probed.size());
    for (const auto& [id, times] : probed) {
      CPPUNIT_ASSERT_EQUAL(std::size_t(10), times.size());
      for (std::size_t i = 1; i < times.size(); ++i) CPPUNIT_ASSERT(times[i] - times[i - 1] == 1s);
    }
  }

  void testFallingBehindProbesAgainSoon() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms)}, t0);
    auto job = s.takeDue(t0).at(0);
    s.complete(job, ok, t0 + 350ms);  // the probe took longer than 3 intervals
    CPPUNIT_ASSERT(*s.dueOf(1) == t0 + 350ms);
    job = s.takeDue(t0 + 350ms).at(0);
    s.complete(job, ok, t0 + 360ms);
    CPPUNIT_ASSERT(*s.dueOf(1) == t0 + 450ms);
  }

  void testRemovedTargetNeverProbedAgain() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1)), target(2, url(2))}, 100ms)}, t0);
    for (const auto& job : s.takeDue(t0)) s.complete(job, ok, t0);
    s.sync({route(1, "/a/", {target(2, url(2))}, 100ms)}, t0 + 50ms);
    CPPUNIT_ASSERT(!s.contains(1));
    for (auto now = t0; now < t0 + 10s; now += 10ms) {
      for (const auto& job : s.takeDue(now)) {
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), job.targetId);
        s.complete(job, ok, now);
      }
    }
    // A whole route removed: nothing left to probe.
    s.sync({}, t0 + 10s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), s.size());
    CPPUNIT_ASSERT(!s.nextDue());
  }

  void testDisabledNotProbedDrainingIs() {
    HealthSchedule s;
    auto draining = target(1, url(1));
    draining.state = portico::ServingState::Draining;
    auto disabled = target(2, url(2));
    disabled.state = portico::ServingState::Disabled;
    s.sync({route(1, "/a/", {draining, disabled}, 100ms)}, t0);
    CPPUNIT_ASSERT(s.contains(1));  // draining: its requests finish, its checks go on
    CPPUNIT_ASSERT(!s.contains(2));
    for (auto now = t0; now < t0 + 1s; now += 10ms) {
      for (const auto& job : s.takeDue(now)) {
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), job.targetId);
        s.complete(job, ok, now);
      }
    }
    // Disabling a target whose probe is in flight: the late result is ignored.
    auto job = s.takeDue(t0 + 2s).at(0);
    draining.state = portico::ServingState::Disabled;
    s.sync({route(1, "/a/", {draining, disabled}, 100ms)}, t0 + 2s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), s.size());
    CPPUNIT_ASSERT(!s.complete(job, refused, t0 + 2s + 1ms));
    // Re-enabled: probed at once, like a new target.
    disabled.state = portico::ServingState::Active;
    s.sync({route(1, "/a/", {draining, disabled}, 100ms)}, t0 + 3s);
    CPPUNIT_ASSERT(*s.dueOf(2) == t0 + 3s);
  }

  void testRemovedWhileInFlight() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms)}, t0);
    auto job = s.takeDue(t0).at(0);
    s.sync({}, t0 + 1ms);
    CPPUNIT_ASSERT(!s.complete(job, refused, t0 + 2ms));  // its verdict is not written
    CPPUNIT_ASSERT(!s.contains(1));
    CPPUNIT_ASSERT(!s.nextDue());
  }

  void testReusedIdIsANewTarget() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(7, url(1))}, 1s)}, t0);
    auto old = s.takeDue(t0).at(0);
    // Removed and another URL added under the same id (SQLite reuses the highest rowid).
    s.sync({route(1, "/a/", {target(7, url(2), true, true)}, 1s)}, t0 + 10ms);
    CPPUNIT_ASSERT(!s.complete(old, refused, t0 + 20ms));
    auto fresh = s.takeDue(t0 + 20ms);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), fresh.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/t2"), fresh[0].target.basePath);
    CPPUNIT_ASSERT(fresh[0].generation != old.generation);
  }

  void testFallThreeThroughSchedule() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms, 3, 2)}, t0);
    auto now = t0;
    auto probe = [&](const ProbeResult& r) {
      auto jobs = s.takeDue(now);
      CPPUNIT_ASSERT_EQUAL(std::size_t(1), jobs.size());
      auto verdict = s.complete(jobs[0], r, now);
      now += 100ms;
      return verdict;
    };
    CPPUNIT_ASSERT(!probe(refused));
    CPPUNIT_ASSERT(!probe(refused));
    CPPUNIT_ASSERT(*s.healthyOf(1));
    auto down = probe(refused);
    CPPUNIT_ASSERT(down);
    CPPUNIT_ASSERT(!down->healthy);
    CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"), down->error);
    CPPUNIT_ASSERT_EQUAL(std::string("/a/"), down->prefix);
    CPPUNIT_ASSERT_EQUAL(url(1), down->url);
    CPPUNIT_ASSERT(!probe(refused));  // only transitions are written
    CPPUNIT_ASSERT(!probe(ok));
    auto up = probe(ok);
    CPPUNIT_ASSERT(up);
    CPPUNIT_ASSERT(up->healthy);
    CPPUNIT_ASSERT_EQUAL(std::string(), up->error);
  }

  void testResumesStoredUnhealthy() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1), false, true)}, 100ms, 1, 2)}, t0);
    CPPUNIT_ASSERT(!*s.healthyOf(1));  // not reset to healthy
    auto now = t0 + 1s;
    auto job = s.takeDue(now).at(0);
    CPPUNIT_ASSERT(!s.complete(job, ok, now));
    CPPUNIT_ASSERT(!*s.healthyOf(1));
    job = s.takeDue(now + 1s).at(0);
    auto up = s.complete(job, ok, now + 1s);
    CPPUNIT_ASSERT(up && up->healthy);
  }

  void testStoreFailureRetries() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms)}, t0);
    auto job = s.takeDue(t0).at(0);
    auto down = s.complete(job, refused, t0);
    CPPUNIT_ASSERT(down);
    s.storeFailed(1, down->generation);
    job = s.takeDue(t0 + 100ms).at(0);
    auto again = s.complete(job, refused, t0 + 100ms);
    CPPUNIT_ASSERT(again && !again->healthy);
    job = s.takeDue(t0 + 200ms).at(0);
    CPPUNIT_ASSERT(!s.complete(job, refused, t0 + 200ms));
  }

  void testIntervalChangeTakesEffectNow() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1), true, true)}, 1h)}, t0);
    s.sync({route(1, "/a/", {target(1, url(1), true, true)}, 1s)}, t0 + 1min);
    const auto due = *s.dueOf(1);
    CPPUNIT_ASSERT(due >= t0 + 1min && due < t0 + 1min + 1s);
    auto job = s.takeDue(due).at(0);
    CPPUNIT_ASSERT(job.spec.interval == 1s);
  }

  void testThresholdChangeApplies() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms, 1)}, t0);
    s.sync({route(1, "/a/", {target(1, url(1))}, 100ms, 2)}, t0);
    auto job = s.takeDue(t0).at(0);
    CPPUNIT_ASSERT(!s.complete(job, refused, t0));
    job = s.takeDue(t0 + 100ms).at(0);
    CPPUNIT_ASSERT(s.complete(job, refused, t0 + 100ms));
  }

  void testReleaseMakesJobDueAgain() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1))}, 1s)}, t0);
    auto job = s.takeDue(t0).at(0);
    s.release(job);
    CPPUNIT_ASSERT(ids(s.takeDue(t0)) == std::vector<std::int64_t>{1});
  }

  /// Applying only what changed (routes touched, routes gone) leaves the schedule with exactly
  /// the targets, settings and due times a full sync gives, over random change sequences with
  /// target adds and removes, disabling, reused ids, interval changes and route deletes.
  void testApplyEqualsSync() {
    for (unsigned seed = 1; seed <= 300; ++seed) {
      std::mt19937 random(seed);
      std::map<std::string, RouteRecord> store;
      std::int64_t nextId = 1;
      HealthSchedule incremental, full;
      incremental.sync({}, t0);
      full.sync({}, t0);
      for (int round = 0; round < 20; ++round) {
        std::set<std::string> touched;
        for (int i = 0, n = 1 + static_cast<int>(random() % 4); i < n; ++i) {
          const std::string prefix = "/r" + std::to_string(random() % 6) + "/";
          touched.insert(prefix);
          auto it = store.find(prefix);
          if (it == store.end()) {
            RouteRecord r = route(nextId++, prefix, {});
            for (int t = static_cast<int>(random() % 4); t > 0; --t, ++nextId)
              r.targets.push_back(target(nextId, url(static_cast<int>(nextId))));
            store[prefix] = r;
            continue;
          }
          auto& r = it->second;
          switch (random() % 5) {
            case 0:
              store.erase(it);
              break;
            case 1: {
              // Sometimes an id freed elsewhere comes back (SQLite reuses the highest), for a
              // different target.
              std::int64_t id = nextId;
              if (random() % 3 == 0) {
                bool held = false;
                for (const auto& [p, other] : store)
                  for (const auto& t : other.targets) held = held || t.id == nextId - 1;
                if (!held) id = nextId - 1;
              }
              r.targets.push_back(target(id, url(static_cast<int>(nextId))));
              ++nextId;
              break;
            }
            case 2:
              if (!r.targets.empty()) r.targets.erase(r.targets.begin());
              break;
            case 3:
              if (!r.targets.empty())
                r.targets.back().state = r.targets.back().state == portico::ServingState::Disabled
                                             ? portico::ServingState::Active
                                             : portico::ServingState::Disabled;
              break;
            default:
              r.health.interval = std::chrono::milliseconds(500 + 500 * (random() % 3));
              break;
          }
        }
        std::vector<RouteRecord> all, changed;
        std::vector<portico::RouteKey> removed;
        for (const auto& [prefix, r] : store) all.push_back(r);
        for (const auto& prefix : touched) {
          auto it = store.find(prefix);
          if (it == store.end()) {
            removed.push_back(prefix);
          } else {
            changed.push_back(it->second);
          }
        }
        const TimePoint now = t0 + std::chrono::seconds(round);
        incremental.apply(changed, removed, now);
        full.sync(all, now);
        CPPUNIT_ASSERT_EQUAL(full.size(), incremental.size());
        for (std::int64_t id = 1; id < nextId; ++id) {
          const std::string at = "seed " + std::to_string(seed) + " round " +
                                 std::to_string(round) + " id " + std::to_string(id);
          CPPUNIT_ASSERT_EQUAL_MESSAGE(at, full.contains(id), incremental.contains(id));
          CPPUNIT_ASSERT_MESSAGE(at, full.dueOf(id) == incremental.dueOf(id));
        }
      }
    }
  }
  void testProbesCountedPerTarget() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1)), target(2, url(2))})}, t0);
    CPPUNIT_ASSERT(counts(s).empty());  // a series exists from its first count
    auto jobs = s.takeDue(t0);
    s.complete(jobs[0], ok, t0);
    s.complete(jobs[1], refused, t0);
    auto again = s.takeDue(t0 + 1s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), again.size());
    s.complete(again[0], ok, t0 + 1s);
    // The checker's own trouble is no probe of the target.
    s.complete(again[1], ProbeResult::localFailure("no descriptor"), t0 + 1s);
    const auto c = counts(s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), c.size());
    const auto first = c.at("/a/|" + jobs[0].target.canonical);
    const auto second = c.at("/a/|" + jobs[1].target.canonical);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), first.first);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), first.second);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), second.first);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), second.second);
  }

  void testCountsOutliveTheTarget() {
    HealthSchedule s;
    s.sync({route(1, "/a/", {target(1, url(1)), target(2, url(2))})}, t0);
    auto jobs = s.takeDue(t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), jobs.size());
    s.complete(jobs[0], ok, t0);
    // Target 2 goes while its probe is in flight; target 1 goes after its probe.
    s.apply({route(1, "/a/", {})}, {}, t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), s.size());
    s.complete(jobs[1], ok, t0);  // still counted: it ran
    auto c = counts(s);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.at("/a/|" + url(1)).first);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.at("/a/|" + url(2)).first);
    // Added again (a new id): its series goes on from where it was.
    s.apply({route(1, "/a/", {target(3, url(1))})}, {}, t0 + 1s);
    auto back = s.takeDue(t0 + 1s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), back.size());
    s.complete(back[0], refused, t0 + 1s);
    c = counts(s);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.at("/a/|" + url(1)).first);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.at("/a/|" + url(1)).second);
    // A whole read that no longer has the route keeps the counts too.
    s.sync({}, t0 + 2s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), counts(s).size());
  }

  void testRouteSettingsReachEveryTarget() {
    // One route's settings are held once for all its targets: a change reaches each of them,
    // and a job carries the target's own URL with them.
    HealthSchedule s;
    auto r = route(1, "/a/", {target(1, "https://[::1]:8443/base%20x"), target(2, url(2))});
    r.host = "api.example.com";
    r.health.path = "/healthz";
    s.sync({r}, t0);
    auto jobs = s.takeDue(t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), jobs.size());
    std::map<std::int64_t, HealthJob> byId;
    for (auto& j : jobs) byId.emplace(j.targetId, j);
    const auto& v6 = byId.at(1).target;
    CPPUNIT_ASSERT_EQUAL(std::string("::1"), v6.host);
    CPPUNIT_ASSERT_EQUAL(std::uint16_t(8443), v6.port);
    CPPUNIT_ASSERT_EQUAL(std::string("/base%20x"), v6.basePath);
    CPPUNIT_ASSERT_EQUAL(std::string("https://[::1]:8443/base%20x"), v6.canonical);
    CPPUNIT_ASSERT(v6.tls);
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), byId.at(2).target.host);
    CPPUNIT_ASSERT_EQUAL(std::uint16_t(9000), byId.at(2).target.port);
    CPPUNIT_ASSERT_EQUAL(std::string("/t2"), byId.at(2).target.basePath);
    for (const auto& j : jobs) {
      CPPUNIT_ASSERT_EQUAL(std::string("/healthz"), j.spec.path);
      CPPUNIT_ASSERT_EQUAL(std::string("api.example.com"), j.host);
      s.complete(j, ok, t0);
    }
    r.health.path = "/ready";
    r.health.fall = 2;
    s.apply({r}, {}, t0 + 500ms);
    jobs = s.takeDue(t0 + 1s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), jobs.size());
    for (const auto& j : jobs) {
      CPPUNIT_ASSERT_EQUAL(std::string("/ready"), j.spec.path);
      CPPUNIT_ASSERT_EQUAL(2, j.spec.fall);
      // fall 2: one failure is not a verdict yet, for either target.
      CPPUNIT_ASSERT(!s.complete(j, refused, t0 + 1s));
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthScheduleTest);
