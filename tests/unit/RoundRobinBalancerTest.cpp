#include <cppunit/extensions/HelperMacros.h>

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

/// round_robin: strict rotation over the shared cursor, skipping filtered candidates.
class RoundRobinBalancerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RoundRobinBalancerTest);
  CPPUNIT_TEST(testInTurn);
  CPPUNIT_TEST(testSkipsFiltered);
  CPPUNIT_TEST(testRotationSurvivesRebuild);
  CPPUNIT_TEST(testEmptyAndAllFiltered);
  CPPUNIT_TEST(testConcurrentPicksStayExact);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testInTurn() {
    auto b = portico::makeBalancer(BalancerKind::RoundRobin, targets(3),
                                   std::make_shared<BalancerState>());
    AllowAll all;
    for (std::size_t i = 0; i < 30; ++i) CPPUNIT_ASSERT_EQUAL(i % 3, b->pick("1.2.3.4", all));
  }

  void testSkipsFiltered() {
    auto b = portico::makeBalancer(BalancerKind::RoundRobin, targets(3),
                                   std::make_shared<BalancerState>());
    Deny noMiddle({1});
    std::vector<int> counts(3);
    std::size_t previous = Balancer::npos;
    for (int i = 0; i < 300; ++i) {
      const std::size_t p = b->pick("", noMiddle);
      CPPUNIT_ASSERT(p == 0 || p == 2);
      CPPUNIT_ASSERT(p != previous);  // the remaining two still alternate
      previous = p;
      ++counts[p];
    }
    CPPUNIT_ASSERT_EQUAL(150, counts[0]);
    CPPUNIT_ASSERT_EQUAL(150, counts[2]);
    // Once the target is allowed again it is back in the rotation.
    AllowAll all;
    std::set<std::size_t> seen;
    for (int i = 0; i < 3; ++i) seen.insert(b->pick("", all));
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
  }

  void testRotationSurvivesRebuild() {
    auto state = std::make_shared<BalancerState>();
    AllowAll all;
    auto first = portico::makeBalancer(BalancerKind::RoundRobin, targets(3), state);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), first->pick("", all));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), first->pick("", all));
    auto second = portico::makeBalancer(BalancerKind::RoundRobin, targets(3), state);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), second->pick("", all));
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), second->pick("", all));
  }

  void testEmptyAndAllFiltered() {
    AllowAll all;
    Deny none({0, 1, 2});
    for (auto kind : {BalancerKind::RoundRobin, BalancerKind::LeastConn, BalancerKind::IpHash}) {
      auto empty = portico::makeBalancer(kind, {}, std::make_shared<BalancerState>());
      CPPUNIT_ASSERT_EQUAL(Balancer::npos, empty->pick("1.2.3.4", all));
      auto b = portico::makeBalancer(kind, targets(3), std::make_shared<BalancerState>());
      for (int i = 0; i < 5; ++i) CPPUNIT_ASSERT_EQUAL(Balancer::npos, b->pick("1.2.3.4", none));
    }
    // A null state is tolerated (the factory makes one).
    auto b = portico::makeBalancer(BalancerKind::RoundRobin, targets(2), nullptr);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), b->pick("", all));
  }

  void testConcurrentPicksStayExact() {
    auto b = portico::makeBalancer(BalancerKind::RoundRobin, targets(4),
                                   std::make_shared<BalancerState>());
    constexpr int kThreads = 4, kPicks = 100000;
    std::vector<std::vector<int>> counts(kThreads, std::vector<int>(4));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        AllowAll all;
        for (int i = 0; i < kPicks; ++i) ++counts[t][b->pick("", all)];
      });
    for (auto& th : threads) th.join();
    for (std::size_t target = 0; target < 4; ++target) {
      int total = 0;
      for (int t = 0; t < kThreads; ++t) total += counts[t][target];
      CPPUNIT_ASSERT_EQUAL(kThreads * kPicks / 4, total);  // every cursor value used once
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoundRobinBalancerTest);
