#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "routing/RouteTable.h"
#include "routing/RouteTableSlot.h"
#include "store/StoreTime.h"

using portico::BalancerKind;
using portico::Route;
using portico::RouteRecord;
using portico::RouteTable;
using portico::ServingState;
using portico::TargetRecord;

namespace {

RouteRecord route(const std::string& prefix, std::vector<std::pair<std::string, bool>> targets,
                  BalancerKind kind = BalancerKind::RoundRobin) {
  RouteRecord r;
  r.prefix = prefix;
  r.balancer = kind;
  std::int64_t id = 1;
  for (auto& [url, healthy] : targets) {
    TargetRecord t;
    t.id = id++;
    t.url = url;
    t.healthy = healthy;
    r.targets.push_back(t);
  }
  return r;
}

std::string matched(const RouteTable& table, const std::string& target) {
  const Route* r = table.match(target);
  return r ? r->prefix : "none";
}

class AcceptAll : public portico::CandidateFilter {
 public:
  bool allowed(std::size_t) const override { return true; }
};

}  // namespace

/// RouteTable: longest-prefix lookup, healthy-only balancers, state carried across snapshots.
class RouteTableTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RouteTableTest);
  CPPUNIT_TEST(testLongestPrefixWins);
  CPPUNIT_TEST(testEmptyTable);
  CPPUNIT_TEST(testBalancerOverHealthyTargets);
  CPPUNIT_TEST(testStateCarriedOverByIdentity);
  CPPUNIT_TEST(testCooldownClearedWhenStoreRestoresTarget);
  CPPUNIT_TEST(testBadTargetSkipped);
  CPPUNIT_TEST(testSlotPublishesToEveryThread);
  CPPUNIT_TEST(testFreedSlotIsReused);
  CPPUNIT_TEST(testOnlyActiveWeightedHealthyTargetsAreCandidates);
  CPPUNIT_TEST(testDrainingTargetLosesOnlyItsIpHashClients);
  CPPUNIT_TEST(testSlowStartRampsFromServingSince);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testLongestPrefixWins() {
    const auto table = RouteTable::build(
        {route("/", {}), route("/api/", {}), route("/api/v2/", {}), route("/proxy/", {})}, nullptr,
        1);
    struct Row {
      const char* target;
      const char* prefix;
    };
    const Row rows[] = {
        {"/api/v2/users?x=1", "/api/v2/"},
        {"/api/v2", "/api/v2/"},
        {"/api/v2/", "/api/v2/"},
        {"/api/v3/users", "/api/"},
        {"/api/v2x", "/api/"},
        {"/api", "/api/"},
        {"/apix", "/"},
        {"/proxy/a/b?q=1", "/proxy/"},
        {"/proxy", "/proxy/"},
        {"/", "/"},
        {"/other/thing", "/"},
        {"/proxy?q=/api/v2/", "/proxy/"},
        {"*", "none"},
    };
    for (const auto& r : rows)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.target, std::string(r.prefix), matched(*table, r.target));

    const auto noRoot = RouteTable::build({route("/api/", {}), route("/proxy/", {})}, nullptr, 2);
    CPPUNIT_ASSERT_EQUAL(std::string("none"), matched(*noRoot, "/"));
    CPPUNIT_ASSERT_EQUAL(std::string("none"), matched(*noRoot, "/apix/y"));
    CPPUNIT_ASSERT_EQUAL(std::string("none"), matched(*noRoot, "/prox"));
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), matched(*noRoot, "/api/x"));
  }

  void testEmptyTable() {
    const RouteTable empty;
    CPPUNIT_ASSERT(empty.match("/") == nullptr);
    CPPUNIT_ASSERT(empty.match("/proxy/a") == nullptr);
  }

  void testBalancerOverHealthyTargets() {
    const auto table = RouteTable::build(
        {route("/p/", {{"http://a:1", true}, {"http://b:2", false}, {"http://c:3", true}})},
        nullptr, 1);
    const Route& r = *table->match("/p/x");
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.targets.size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.candidates().size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a:1"), r.candidates()[0].target->url.canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("http://c:3"), r.candidates()[1].target->url.canonical);
    AcceptAll all;
    portico::PickState state;
    for (int i = 0; i < 10; ++i) CPPUNIT_ASSERT(r.picker->pick("1.2.3.4", all, state, 0) < 2);

    const auto none = RouteTable::build({route("/p/", {{"http://a:1", false}})}, nullptr, 2);
    CPPUNIT_ASSERT_EQUAL(portico::Balancer::npos,
                         none->match("/p")->picker->pick("k", all, state, 0));
  }

  void testStateCarriedOverByIdentity() {
    const auto first =
        RouteTable::build({route("/p/", {{"http://a:1", true}, {"http://b:2", true}}),
                           route("/q/", {{"http://a:1", true}})},
                          nullptr, 1);
    const Route& p1 = *first->find("/p/");
    p1.targets[0]->inFlight = 3;
    // Same URL spelled differently, one target removed, one added, one route added.
    const auto second =
        RouteTable::build({route("/p/", {{"http://A:1/", true}, {"http://c:3", true}}),
                           route("/q/", {{"http://a:1", true}}), route("/r/", {})},
                          first.get(), 2);
    const Route& p2 = *second->find("/p/");
    CPPUNIT_ASSERT(p2.targets[0] == p1.targets[0]);
    CPPUNIT_ASSERT_EQUAL(3, p2.targets[0]->inFlight.load());
    // Each route keeps its pick-state slot; the new route takes one neither of them holds.
    CPPUNIT_ASSERT_EQUAL(p1.slot, p2.slot);
    CPPUNIT_ASSERT_EQUAL(first->find("/q/")->slot, second->find("/q/")->slot);
    CPPUNIT_ASSERT(
        std::set<std::size_t>({0, 1, 2}) ==
        std::set<std::size_t>({p2.slot, second->find("/q/")->slot, second->find("/r/")->slot}));
    CPPUNIT_ASSERT(p2.targets[1] != p1.targets[1]);
    // Identity is (prefix, URL): the same URL under another route is another state.
    CPPUNIT_ASSERT(second->find("/q/")->targets[0] != p2.targets[0]);
    CPPUNIT_ASSERT(second->find("/q/")->targets[0] == first->find("/q/")->targets[0]);

    const auto dropped = first->droppedBy(*second);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), dropped.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://b:2"), dropped[0]->url.canonical);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), second->revision());
  }

  void testCooldownClearedWhenStoreRestoresTarget() {
    const auto first = RouteTable::build(
        {route("/p/", {{"http://a:1", false}, {"http://b:2", true}})}, nullptr, 1);
    first->find("/p/")->targets[0]->avoidUntilMs = 1'000'000'000'000;
    first->find("/p/")->targets[1]->avoidUntilMs = 1'000'000'000'000;
    const auto second = RouteTable::build(
        {route("/p/", {{"http://a:1", true}, {"http://b:2", true}})}, first.get(), 2);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), second->find("/p/")->targets[0]->avoidUntilMs.load());
    // A target that stayed healthy keeps its passive cooldown.
    CPPUNIT_ASSERT(second->find("/p/")->targets[1]->avoidUntilMs.load() > 0);
  }

  void testBadTargetSkipped() {
    std::vector<std::string> problems;
    const auto table = RouteTable::build(
        {route("/p/", {{"ftp://nope", true}, {"http://ok:1", true}})}, nullptr, 1, &problems);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), table->find("/p/")->targets.size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
  }

  void testSlotPublishesToEveryThread() {
    portico::RouteTableSlot slot;
    CPPUNIT_ASSERT(slot.current()->match("/p/") == nullptr);
    std::atomic<bool> stop{false};
    std::atomic<int> sawNew{0};
    std::atomic<bool> wentBack{false};
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) {
      readers.emplace_back([&] {
        bool seen = false;
        while (!stop) {
          const bool has = slot.current()->match("/p/") != nullptr;
          if (has && !seen) {
            seen = true;
            ++sawNew;
          }
          if (seen && !has) wentBack = true;  // must never go back to an older table
        }
      });
    }
    slot.publish(RouteTable::build({route("/p/", {})}, nullptr, 1));
    for (int i = 0; i < 2000 && sawNew < 4; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stop = true;
    for (auto& t : readers) t.join();
    CPPUNIT_ASSERT_EQUAL(4, sawNew.load());
    CPPUNIT_ASSERT(!wentBack);
    CPPUNIT_ASSERT(slot.current()->match("/p/x") != nullptr);
  }

  void testFreedSlotIsReused() {
    const auto first =
        RouteTable::build({route("/a/", {}), route("/b/", {}), route("/c/", {})}, nullptr, 1);
    const std::size_t bSlot = first->find("/b/")->slot;
    const auto second =
        RouteTable::build({route("/a/", {}), route("/c/", {}), route("/d/", {})}, first.get(), 2);
    CPPUNIT_ASSERT_EQUAL(first->find("/a/")->slot, second->find("/a/")->slot);
    CPPUNIT_ASSERT_EQUAL(first->find("/c/")->slot, second->find("/c/")->slot);
    CPPUNIT_ASSERT_EQUAL(bSlot, second->find("/d/")->slot);  // slots stay few: PickStates small
  }

  void testOnlyActiveWeightedHealthyTargetsAreCandidates() {
    auto r = route("/p/", {{"http://a:1", true},
                           {"http://b:2", true},
                           {"http://c:3", true},
                           {"http://d:4", true},
                           {"http://e:5", false}});
    r.targets[0].weight = 300;
    r.targets[1].state = ServingState::Draining;
    r.targets[2].state = ServingState::Disabled;
    r.targets[3].weight = 0;
    const auto table = RouteTable::build({r}, nullptr, 1);
    const Route& p = *table->find("/p/");
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), p.targets.size());  // all kept: in-flight work goes on
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.candidates().size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a:1"), p.candidates()[0].target->url.canonical);
    CPPUNIT_ASSERT_EQUAL(300, p.picker->candidates()[0].weight);
    CPPUNIT_ASSERT(p.standing[1].state == ServingState::Draining);
    CPPUNIT_ASSERT_EQUAL(0, p.standing[3].weight);
    // A draining target keeps its runtime state (in-flight count, pool) across snapshots.
    const auto next = RouteTable::build({r}, table.get(), 2);
    CPPUNIT_ASSERT(next->find("/p/")->targets[1] == p.targets[1]);
    CPPUNIT_ASSERT(table->droppedBy(*next).empty());
  }

  void testDrainingTargetLosesOnlyItsIpHashClients() {
    auto r = route("/p/", {{"http://a:1", true}, {"http://b:2", true}, {"http://c:3", true}},
                   BalancerKind::IpHash);
    const auto before = RouteTable::build({r}, nullptr, 1);
    r.targets[1].state = ServingState::Draining;
    const auto after = RouteTable::build({r}, before.get(), 2);
    AcceptAll all;
    portico::PickState state;
    int moved = 0;
    for (int i = 0; i < 5000; ++i) {
      const std::string key = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
      const auto& b = *before->find("/p/");
      const auto& a = *after->find("/p/");
      const std::string was =
          b.candidates()[b.picker->pick(key, all, state, 0)].target->url.canonical;
      const std::string now =
          a.candidates()[a.picker->pick(key, all, state, 0)].target->url.canonical;
      CPPUNIT_ASSERT(now != "http://b:2");
      if (was == "http://b:2") {
        ++moved;
      } else {
        CPPUNIT_ASSERT_EQUAL(was, now);
      }
    }
    CPPUNIT_ASSERT(moved > 1000 && moved < 2400);  // about a third
  }

  void testSlowStartRampsFromServingSince() {
    auto r = route("/p/", {{"http://a:1", true}, {"http://b:2", true}, {"http://c:3", true}});
    r.health.slowStart = std::chrono::seconds(10);
    r.targets[0].servingSince = "2024-05-01T11:00:00.000Z";  // long ago
    r.targets[1].servingSince = "2024-05-01T11:59:58.000Z";  // 2 s before the build
    r.targets[2].servingSince = "";                          // unknown: treated as warm
    // The build happens at 12:00:00 wall-clock time, 50 s into the steady clock.
    const portico::SnapshotClock clock{*portico::storeTimeMs("2024-05-01T12:00:00.000Z"), 50000};
    const auto table = RouteTable::build({r}, nullptr, 1, nullptr, 0, nullptr, clock);
    const Route& p = *table->find("/p/");
    CPPUNIT_ASSERT_EQUAL(std::int64_t(10000), p.picker->slowStart().windowMs());
    const auto& cs = p.picker->candidates();
    CPPUNIT_ASSERT_EQUAL(std::int64_t(48000), cs[1].warmFromMs);
    const auto& ramp = p.picker->slowStart();
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), ramp.permille(cs[0], 50000));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(280), ramp.permille(cs[1], 50000));  // 2 s of 10: 10+18 %
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), ramp.permille(cs[1], 58000));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), ramp.permille(cs[2], 50000));
    // Without slow start nothing ramps, whatever the times.
    r.health.slowStart = std::chrono::milliseconds(0);
    const auto off = RouteTable::build({r}, nullptr, 1, nullptr, 0, nullptr, clock);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), off->find("/p/")->picker->slowStart().permille(
                                                 off->find("/p/")->picker->candidates()[1], 50000));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouteTableTest);
