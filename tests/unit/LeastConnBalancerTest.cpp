#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>
#include <vector>

#include "balance/Balancer.h"
#include "unit/BalancerTestSupport.h"

using portico::Balancer;
using portico::BalancerKind;
using portico::PickState;
using portico::SlowStart;
using portico::test::AllowAll;
using portico::test::balancer;
using portico::test::candidates;
using portico::test::Deny;
using portico::test::targets;

/// least_conn: fewest requests in flight per unit of weight wins; ties go by weight.
class LeastConnBalancerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(LeastConnBalancerTest);
  CPPUNIT_TEST(testPrefersLowestInFlight);
  CPPUNIT_TEST(testTiesInTurn);
  CPPUNIT_TEST(testSkipsFiltered);
  CPPUNIT_TEST(testFollowsLoad);
  CPPUNIT_TEST(testComparesInFlightPerWeight);
  CPPUNIT_TEST(testIdleTiesSplitByWeight);
  CPPUNIT_TEST(testLoadFollowsWeights);
  CPPUNIT_TEST(testSlowStartLowersEffectiveWeight);
  CPPUNIT_TEST(testConcurrentPicks);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPrefersLowestInFlight() {
    auto ts = targets(3);
    ts[0]->inFlight = 5;
    ts[1]->inFlight = 2;
    ts[2]->inFlight = 7;
    auto b = balancer(BalancerKind::LeastConn, ts);
    AllowAll all;
    PickState state;
    for (int i = 0; i < 10; ++i) CPPUNIT_ASSERT_EQUAL(std::size_t(1), b->pick("", all, state, 0));
    ts[2]->inFlight = 0;  // the live counters are read on every pick
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), b->pick("", all, state, 0));
  }

  void testTiesInTurn() {
    auto ts = targets(3);
    auto b = balancer(BalancerKind::LeastConn, ts);
    AllowAll all;
    PickState state;
    for (std::size_t i = 0; i < 12; ++i) CPPUNIT_ASSERT_EQUAL(i % 3, b->pick("", all, state, 0));
    // Two tied at the minimum, one busier: the two share the picks, the busy one gets none.
    ts[1]->inFlight = 4;
    std::vector<int> counts(3);
    for (int i = 0; i < 300; ++i) ++counts[b->pick("", all, state, 0)];
    CPPUNIT_ASSERT_EQUAL(0, counts[1]);
    CPPUNIT_ASSERT_EQUAL(150, counts[0]);
    CPPUNIT_ASSERT_EQUAL(150, counts[2]);
  }

  void testSkipsFiltered() {
    auto ts = targets(3);
    ts[0]->inFlight = 0;
    ts[1]->inFlight = 3;
    ts[2]->inFlight = 1;
    auto b = balancer(BalancerKind::LeastConn, ts);
    PickState state;
    Deny noFirst({0});
    for (int i = 0; i < 10; ++i)
      CPPUNIT_ASSERT_EQUAL(std::size_t(2), b->pick("", noFirst, state, 0));
    Deny onlyMiddle({0, 2});
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), b->pick("", onlyMiddle, state, 0));
  }

  /// As a caller would: count the request in on the picked target; load spreads evenly.
  void testFollowsLoad() {
    auto ts = targets(4);
    auto b = balancer(BalancerKind::LeastConn, ts);
    AllowAll all;
    PickState state;
    ts[3]->inFlight = 10;
    for (int i = 0; i < 30; ++i) ++ts[b->pick("", all, state, 0)]->inFlight;
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT_EQUAL(10, ts[i]->inFlight.load());
  }

  void testComparesInFlightPerWeight() {
    auto ts = targets(2);
    auto b = balancer(BalancerKind::LeastConn, ts, {100, 300});
    AllowAll all;
    PickState state;
    // 2/100 against 4/300: the heavier target is the less loaded for its weight.
    ts[0]->inFlight = 2;
    ts[1]->inFlight = 4;
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), b->pick("", all, state, 0));
    // 2/100 against 7/300: now the lighter one.
    ts[1]->inFlight = 7;
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), b->pick("", all, state, 0));
  }

  void testIdleTiesSplitByWeight() {
    // Sequential requests (nothing in flight at each pick) follow the weights, not 50/50.
    auto b = balancer(BalancerKind::LeastConn, targets(2), {100, 300});
    AllowAll all;
    PickState state;
    std::vector<int> counts(2);
    for (int i = 0; i < 400; ++i) ++counts[b->pick("", all, state, 0)];
    CPPUNIT_ASSERT_EQUAL(100, counts[0]);
    CPPUNIT_ASSERT_EQUAL(300, counts[1]);
  }

  void testLoadFollowsWeights() {
    // Requests that stay open pile up in proportion to the weights.
    auto ts = targets(3);
    auto b = balancer(BalancerKind::LeastConn, ts, {100, 200, 500});
    AllowAll all;
    PickState state;
    for (int i = 0; i < 800; ++i) ++ts[b->pick("", all, state, 0)]->inFlight;
    CPPUNIT_ASSERT_EQUAL(100, ts[0]->inFlight.load());
    CPPUNIT_ASSERT_EQUAL(200, ts[1]->inFlight.load());
    CPPUNIT_ASSERT_EQUAL(500, ts[2]->inFlight.load());
  }

  void testSlowStartLowersEffectiveWeight() {
    auto ts = targets(2);
    auto cs = candidates(ts);
    cs[1].warmFromMs = 0;  // came back at t=0, 10 s window
    auto b =
        portico::makeBalancer(BalancerKind::LeastConn, cs, SlowStart(std::chrono::seconds(10)));
    AllowAll all;
    PickState state;
    // At t=0 the newcomer counts for 10 % of its weight: it holds a tenth of the open requests.
    for (int i = 0; i < 110; ++i) ++ts[b->pick("", all, state, 0)]->inFlight;
    CPPUNIT_ASSERT_EQUAL(100, ts[0]->inFlight.load());
    CPPUNIT_ASSERT_EQUAL(10, ts[1]->inFlight.load());
    // At the end of the window it is an equal again: the next 90 go to it.
    for (int i = 0; i < 90; ++i) {
      const std::size_t p = b->pick("", all, state, 10000);
      CPPUNIT_ASSERT_EQUAL(std::size_t(1), p);
      ++ts[p]->inFlight;
    }
    CPPUNIT_ASSERT_EQUAL(100, ts[1]->inFlight.load());
  }

  void testConcurrentPicks() {
    auto ts = targets(4);
    auto b = balancer(BalancerKind::LeastConn, ts, {1, 2, 3, 4});
    std::atomic<bool> bad{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        AllowAll all;
        PickState own(static_cast<std::uint64_t>(t));
        for (int i = 0; i < 50000; ++i) {
          const std::size_t p = b->pick("", all, own, 0);
          if (p >= ts.size()) {
            bad = true;
            return;
          }
          ++ts[p]->inFlight;
          --ts[p]->inFlight;
        }
      });
    for (auto& th : threads) th.join();
    CPPUNIT_ASSERT(!bad);
    for (auto& t : ts) CPPUNIT_ASSERT_EQUAL(0, t->inFlight.load());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LeastConnBalancerTest);
