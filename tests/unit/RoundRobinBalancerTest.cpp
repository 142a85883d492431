#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "balance/Balancer.h"
#include "unit/BalancerTestSupport.h"

using portico::Balancer;
using portico::BalancerKind;
using portico::Candidate;
using portico::PickState;
using portico::SlowStart;
using portico::test::AllowAll;
using portico::test::balancer;
using portico::test::candidates;
using portico::test::Deny;
using portico::test::targets;

namespace {

/// `n` picks as letters a, b, c, ... (one per candidate index).
std::string sequence(const Balancer& b, PickState& state, int n,
                     const portico::CandidateFilter& filter = AllowAll(), std::int64_t now = 0) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const std::size_t p = b.pick("", filter, state, now);
    out += p == Balancer::npos ? '-' : static_cast<char>('a' + p);
  }
  return out;
}

}  // namespace

/// round_robin: smooth weighted round robin (nginx's), its state kept by the caller.
class RoundRobinBalancerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RoundRobinBalancerTest);
  CPPUNIT_TEST(testEqualWeightsTakeTurns);
  CPPUNIT_TEST(testNginxSequenceFor5_1_1);
  CPPUNIT_TEST(testEveryWindowOfTotalWeightIsExact);
  CPPUNIT_TEST(testSkipsFiltered);
  CPPUNIT_TEST(testEachCallerHasItsOwnRotation);
  CPPUNIT_TEST(testSeedStaggersTheStart);
  CPPUNIT_TEST(testRebuiltBalancerKeepsOrResetsState);
  CPPUNIT_TEST(testEmptyAndAllFiltered);
  CPPUNIT_TEST(testSlowStartRampWithFakeClock);
  CPPUNIT_TEST(testThreadsWithOwnStatesStayExact);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEqualWeightsTakeTurns() {
    auto b = balancer(BalancerKind::RoundRobin, targets(3));
    PickState state;
    CPPUNIT_ASSERT_EQUAL(std::string("abcabcabcabc"), sequence(*b, state, 12));
  }

  void testNginxSequenceFor5_1_1() {
    auto b = balancer(BalancerKind::RoundRobin, targets(3), {5, 1, 1});
    PickState state;
    // nginx's documented sequence for weights 5:1:1, period after period.
    CPPUNIT_ASSERT_EQUAL(std::string("aabacaa"
                                     "aabacaa"
                                     "aabacaa"),
                         sequence(*b, state, 21));
    // The same shape whatever the scale of the weights.
    auto scaled = balancer(BalancerKind::RoundRobin, targets(3), {500, 100, 100});
    PickState other;
    CPPUNIT_ASSERT_EQUAL(std::string("aabacaa"), sequence(*scaled, other, 7));
  }

  void testEveryWindowOfTotalWeightIsExact() {
    const std::vector<int> weights{3, 7, 1, 4, 10};
    const int total = std::accumulate(weights.begin(), weights.end(), 0);
    auto b = balancer(BalancerKind::RoundRobin, targets(weights.size()), weights);
    PickState state;
    const std::string seq = sequence(*b, state, total * 4);
    for (int start = 0; start + total <= static_cast<int>(seq.size()); ++start) {
      for (std::size_t t = 0; t < weights.size(); ++t) {
        const auto window = seq.substr(static_cast<std::size_t>(start), total);
        const auto count = std::count(window.begin(), window.end(), static_cast<char>('a' + t));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(window, static_cast<long>(weights[t]),
                                     static_cast<long>(count));
      }
    }
    // Interleaved, not in bursts: the heaviest (10 of 25) never gets more than 2 in a row.
    CPPUNIT_ASSERT(seq.find("eee") == std::string::npos);
  }

  void testSkipsFiltered() {
    auto b = balancer(BalancerKind::RoundRobin, targets(3), {1, 1, 2});
    PickState state;
    Deny noLast({2});
    // The other two share the picks as if the denied one were not there.
    CPPUNIT_ASSERT_EQUAL(std::string("abababab"), sequence(*b, state, 8, noLast));
    // Allowed again, it is back with its weight.
    const std::string seq = sequence(*b, state, 40);
    CPPUNIT_ASSERT_EQUAL(20L, static_cast<long>(std::count(seq.begin(), seq.end(), 'c')));
  }

  void testEachCallerHasItsOwnRotation() {
    auto b = balancer(BalancerKind::RoundRobin, targets(3), {5, 1, 1});
    PickState loop1;
    PickState loop2;
    CPPUNIT_ASSERT_EQUAL(std::string("aab"), sequence(*b, loop1, 3));
    // Another loop's picks do not move this one's rotation, and the reverse.
    CPPUNIT_ASSERT_EQUAL(std::string("aabacaa"), sequence(*b, loop2, 7));
    CPPUNIT_ASSERT_EQUAL(std::string("acaa"), sequence(*b, loop1, 4));
  }

  void testSeedStaggersTheStart() {
    auto b = balancer(BalancerKind::RoundRobin, targets(3));
    PickState seeded(1);
    CPPUNIT_ASSERT_EQUAL(std::string("bcabca"), sequence(*b, seeded, 6));
    PickState wrapped(5);
    CPPUNIT_ASSERT_EQUAL(std::string("cab"), sequence(*b, wrapped, 3));
    portico::PickStates loops(7);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), loops.at(0).seed());
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), loops.at(3).seed());
    CPPUNIT_ASSERT(&loops.at(0) == &loops.at(0));
  }

  void testRebuiltBalancerKeepsOrResetsState() {
    const auto ts = targets(3);
    PickState state;
    auto first = balancer(BalancerKind::RoundRobin, ts, {5, 1, 1});
    CPPUNIT_ASSERT_EQUAL(std::string("aab"), sequence(*first, state, 3));
    // A new snapshot of the same size carries on where the rotation stood.
    auto same = balancer(BalancerKind::RoundRobin, ts, {5, 1, 1});
    CPPUNIT_ASSERT_EQUAL(std::string("acaa"), sequence(*same, state, 4));
    CPPUNIT_ASSERT_EQUAL(std::string("aab"), sequence(*same, state, 3));
    // A different size starts afresh (and never reads past the new candidates).
    auto bigger = balancer(BalancerKind::RoundRobin, targets(4), {1, 1, 1, 5});
    CPPUNIT_ASSERT_EQUAL(std::string("dadbdcdd"), sequence(*bigger, state, 8));
    auto smaller = balancer(BalancerKind::RoundRobin, targets(2));
    CPPUNIT_ASSERT_EQUAL(std::string("abab"), sequence(*smaller, state, 4));
  }

  void testEmptyAndAllFiltered() {
    AllowAll all;
    Deny none({0, 1, 2});
    for (auto kind : {BalancerKind::RoundRobin, BalancerKind::LeastConn, BalancerKind::IpHash}) {
      PickState state;
      auto empty = portico::makeBalancer(kind, {});
      CPPUNIT_ASSERT_EQUAL(Balancer::npos, empty->pick("1.2.3.4", all, state, 0));
      auto b = balancer(kind, targets(3));
      for (int i = 0; i < 5; ++i)
        CPPUNIT_ASSERT_EQUAL(Balancer::npos, b->pick("1.2.3.4", none, state, 0));
    }
  }

  void testSlowStartRampWithFakeClock() {
    // The permille ramp itself: 10 % at the start, linear, 100 % from the end of the window.
    const SlowStart ramp(std::chrono::seconds(10));
    Candidate c;
    c.warmFromMs = 1000;
    const std::pair<std::int64_t, std::int64_t> table[] = {
        {0, 100},     {1000, 100},   {2000, 190},    {6000, 550},
        {10999, 999}, {11000, 1000}, {999999, 1000},
    };
    for (const auto& [now, expected] : table)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(now), expected, ramp.permille(c, now));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), SlowStart().permille(c, 1000));  // off
    Candidate warm;  // served long before any window
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), ramp.permille(warm, 0));

    // A warm target and one that came back at t=0, equal weights, a 10 s window: the newcomer's
    // share of the picks follows its effective weight at each moment of the fake clock.
    auto cs = candidates(targets(2));
    cs[1].warmFromMs = 0;
    auto b =
        portico::makeBalancer(BalancerKind::RoundRobin, cs, SlowStart(std::chrono::seconds(10)));
    // Effective weights 1000 : permille, so whole periods give the newcomer an exact count.
    struct Step {
      std::int64_t now;
      int picks;
      int newcomer;
    };
    const Step steps[] = {{0, 110, 10}, {5000, 155, 55}, {10000, 200, 100}, {20000, 2, 1}};
    for (const auto& s : steps) {
      PickState state;
      int got = 0;
      for (int i = 0; i < s.picks; ++i) got += b->pick("", AllowAll(), state, s.now) == 1;
      CPPUNIT_ASSERT_EQUAL_MESSAGE("at " + std::to_string(s.now) + " ms", s.newcomer, got);
    }
  }

  void testThreadsWithOwnStatesStayExact() {
    auto b = balancer(BalancerKind::RoundRobin, targets(4), {1, 2, 3, 4});
    constexpr int kThreads = 4, kPeriods = 10000;
    std::vector<std::vector<int>> counts(kThreads, std::vector<int>(4));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        PickState own(static_cast<std::uint64_t>(t));
        AllowAll all;
        for (int i = 0; i < kPeriods * 10; ++i) ++counts[t][b->pick("", all, own, 0)];
      });
    for (auto& th : threads) th.join();
    // Whole periods on every thread: each target got exactly its weight in each.
    for (int t = 0; t < kThreads; ++t)
      for (int target = 0; target < 4; ++target)
        CPPUNIT_ASSERT_EQUAL(kPeriods * (target + 1), counts[t][target]);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoundRobinBalancerTest);
