#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "Balancer.h"
#include "BalancerTestSupport.h"
#include "Normalize.h"

using portico::Balancer;
using portico::BalancerKind;
using portico::BalancerState;
using portico::test::AllowAll;
using portico::test::Deny;
using portico::test::targets;

/// least_conn: fewest requests in flight wins; equals take turns.
class LeastConnBalancerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(LeastConnBalancerTest);
  CPPUNIT_TEST(testPrefersLowestInFlight);
  CPPUNIT_TEST(testTiesInTurn);
  CPPUNIT_TEST(testSkipsFiltered);
  CPPUNIT_TEST(testFollowsLoad);
  CPPUNIT_TEST(testConcurrentPicks);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPrefersLowestInFlight() {
    auto ts = targets(3);
    ts[0]->inFlight = 5;
    ts[1]->inFlight = 2;
    ts[2]->inFlight = 7;
    auto b = portico::makeBalancer(BalancerKind::LeastConn, ts, std::make_shared<BalancerState>());
    AllowAll all;
    for (int i = 0; i < 10; ++i) CPPUNIT_ASSERT_EQUAL(std::size_t(1), b->pick("", all));
    ts[2]->inFlight = 0;  // the live counters are read on every pick
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), b->pick("", all));
  }

  void testTiesInTurn() {
    auto ts = targets(3);
    auto b = portico::makeBalancer(BalancerKind::LeastConn, ts, std::make_shared<BalancerState>());
    AllowAll all;
    for (std::size_t i = 0; i < 12; ++i) CPPUNIT_ASSERT_EQUAL(i % 3, b->pick("", all));
    // Two tied at the minimum, one busier: the two share the picks, the busy one gets none.
    ts[1]->inFlight = 4;
    std::vector<int> counts(3);
    for (int i = 0; i < 300; ++i) ++counts[b->pick("", all)];
    CPPUNIT_ASSERT_EQUAL(0, counts[1]);
    CPPUNIT_ASSERT(counts[0] >= 100 && counts[2] >= 100);
  }

  void testSkipsFiltered() {
    auto ts = targets(3);
    ts[0]->inFlight = 0;
    ts[1]->inFlight = 3;
    ts[2]->inFlight = 1;
    auto b = portico::makeBalancer(BalancerKind::LeastConn, ts, std::make_shared<BalancerState>());
    Deny noFirst({0});
    for (int i = 0; i < 10; ++i) CPPUNIT_ASSERT_EQUAL(std::size_t(2), b->pick("", noFirst));
    Deny onlyMiddle({0, 2});
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), b->pick("", onlyMiddle));
  }

  /// As a caller would: count the request in on the picked target; load spreads evenly.
  void testFollowsLoad() {
    auto ts = targets(4);
    auto b = portico::makeBalancer(BalancerKind::LeastConn, ts, std::make_shared<BalancerState>());
    AllowAll all;
    ts[3]->inFlight = 10;
    for (int i = 0; i < 30; ++i) ++ts[b->pick("", all)]->inFlight;
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT_EQUAL(10, ts[i]->inFlight.load());
  }

  void testConcurrentPicks() {
    auto ts = targets(4);
    auto b = portico::makeBalancer(BalancerKind::LeastConn, ts, std::make_shared<BalancerState>());
    std::atomic<bool> bad{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        AllowAll all;
        for (int i = 0; i < 50000; ++i) {
          const std::size_t p = b->pick("", all);
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
