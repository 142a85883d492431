#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "balance/ClientBuckets.h"
#include "balance/SharedRotation.h"
#include "balance/TokenBucket.h"
#include "forward/OutlierDetector.h"
#include "forward/RetryBudget.h"
#include "model/Normalize.h"
#include "unit/BalancerTestSupport.h"

using portico::Balancer;
using portico::ClientBuckets;
using portico::OutlierDetector;
using portico::OutlierPolicy;
using portico::PickState;
using portico::RetryBudget;
using portico::SharedRotation;
using portico::SlowStart;
using portico::TargetState;
using portico::TokenBucket;
using portico::test::AllowAll;
using portico::test::candidates;
using portico::test::Deny;
using portico::test::targets;

namespace {

constexpr std::int64_t kSecond = 1000000;  // TokenBucket's clock is in microseconds

}  // namespace

/// The pure logic of the resilience policies (issue #20), each with a table of cases and, where
/// time matters, a fake clock: the shared round-robin rotation, the retry budget, the outlier
/// detector's ejection schedule and cap, the token bucket and the bounded per-client table.
class ResilienceLogicTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ResilienceLogicTest);
  CPPUNIT_TEST(testSharedRotationSequences);
  CPPUNIT_TEST(testSharedRotationIsOneAcrossCallers);
  CPPUNIT_TEST(testSharedRotationExactFromTwoThreads);
  CPPUNIT_TEST(testSharedRotationSkipsFilteredAndFallsBackDuringSlowStart);
  CPPUNIT_TEST(testEjectedTargetReturnsThroughSlowStart);
  CPPUNIT_TEST(testRetryBudgetTable);
  CPPUNIT_TEST(testRetryBudgetAcquireStopsAtCap);
  CPPUNIT_TEST(testOutlierErrorsTable);
  CPPUNIT_TEST(testOutlierEjectionScheduleAndCap);
  CPPUNIT_TEST(testTokenBucketWithFakeClock);
  CPPUNIT_TEST(testTokenBucketHoldsAcrossThreads);
  CPPUNIT_TEST(testClientBucketsAreSeparateAndBounded);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSharedRotationSequences() {
    struct Case {
      std::vector<int> weights;
      std::string period;  // one full period, as letters
    };
    const std::vector<Case> cases = {
        {{100, 100, 100}, "abc"},
        {{500, 100, 100}, "aabacaa"},  // nginx's 5:1:1
        {{300, 100}, "aaba"},
        {{1, 1000}, ""},  // 1001 long: checked by its counts below
    };
    for (const auto& c : cases) {
      const auto ts = targets(c.weights.size());
      const SharedRotation rotation(candidates(ts, c.weights), SlowStart());
      std::string seq;
      for (const auto i : rotation.sequence()) seq += static_cast<char>('a' + i);
      if (!c.period.empty()) CPPUNIT_ASSERT_EQUAL(c.period, seq);
      std::vector<int> counts(c.weights.size(), 0);
      for (const auto i : rotation.sequence()) ++counts[i];
      int divisor = 0;
      for (const int w : c.weights) divisor = std::gcd(divisor, w);
      for (std::size_t i = 0; i < counts.size(); ++i)
        CPPUNIT_ASSERT_EQUAL(c.weights[i] / divisor, counts[i]);
    }
  }

  void testSharedRotationIsOneAcrossCallers() {
    // Two loops' states, one request each in turn: the route still alternates strictly.
    const auto ts = targets(3);
    const SharedRotation rotation(candidates(ts), SlowStart());
    PickState loop1(0);
    PickState loop2(1);
    std::string seq;
    for (int i = 0; i < 30; ++i)
      seq += static_cast<char>('a' + rotation.pick("", AllowAll(), i % 3 == 0 ? loop1 : loop2, 0));
    CPPUNIT_ASSERT_EQUAL(std::string("abcabcabcabcabcabcabcabcabcabc"), seq);
  }

  void testSharedRotationExactFromTwoThreads() {
    // 3 targets x 3,000 picks from 2 threads: exact shares.
    const auto ts = targets(3);
    const SharedRotation rotation(candidates(ts), SlowStart());
    std::atomic<int> counts[3] = {};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
      threads.emplace_back([&, t] {
        PickState own(static_cast<std::uint64_t>(t));
        for (int i = 0; i < 4500; ++i) counts[rotation.pick("", AllowAll(), own, 0)]++;
      });
    for (auto& th : threads) th.join();
    for (const auto& c : counts) CPPUNIT_ASSERT_EQUAL(3000, c.load());
    // Sequential picks (as requests one after another): never the same target twice in a row.
    PickState one(0);
    std::size_t last = Balancer::npos;
    for (int i = 0; i < 3000; ++i) {
      const std::size_t p = rotation.pick("", AllowAll(), one, 0);
      CPPUNIT_ASSERT(p != last);
      last = p;
    }
  }

  void testSharedRotationSkipsFilteredAndFallsBackDuringSlowStart() {
    const auto ts = targets(3);
    const SharedRotation rotation(candidates(ts), SlowStart());
    PickState state;
    for (int i = 0; i < 9; ++i) CPPUNIT_ASSERT(rotation.pick("", Deny({1}), state, 0) != 1);
    CPPUNIT_ASSERT_EQUAL(Balancer::npos, rotation.pick("", Deny({0, 1, 2}), state, 0));
    // A target ramping up: the per-caller smooth rotation until the ramp ends.
    auto cs = candidates(ts);
    cs[2].warmFromMs = 1000;
    const SharedRotation ramping(cs, SlowStart(std::chrono::seconds(10)));
    PickState early;
    int c = 0;
    for (int i = 0; i < 210; ++i) c += ramping.pick("", AllowAll(), early, 1000) == 2;
    CPPUNIT_ASSERT_EQUAL(10, c);  // 10 % of its weight at the start: 10 of 210
    PickState late;
    std::string seq;
    for (int i = 0; i < 6; ++i)
      seq += static_cast<char>('a' + ramping.pick("", AllowAll(), late, 11000));
    CPPUNIT_ASSERT_EQUAL(std::string("abcabc"), seq);
  }

  void testEjectedTargetReturnsThroughSlowStart() {
    // Target c was ejected until t=100 s; the route has a 10 s slow start. Without slow start
    // it returns at its full share at once.
    const auto ts = targets(3);
    ts[2]->returnedAtMs = 100000;
    const SharedRotation ramping(candidates(ts), SlowStart(std::chrono::seconds(10)));
    const SharedRotation plain(candidates(ts), SlowStart());
    const auto share = [](const SharedRotation& r, std::int64_t now) {
      PickState state;
      int c = 0;
      for (int i = 0; i < 3000; ++i) c += r.pick("", AllowAll(), state, now) == 2;
      return c;
    };
    CPPUNIT_ASSERT_EQUAL(1000, share(plain, 100000));
    const int atReturn = share(ramping, 100000);  // 10 % of its 1,000 slots
    CPPUNIT_ASSERT_MESSAGE(std::to_string(atReturn), atReturn >= 70 && atReturn <= 130);
    const int halfway = share(ramping, 105000);  // 55 %
    CPPUNIT_ASSERT_MESSAGE(std::to_string(halfway), halfway >= 500 && halfway <= 600);
    CPPUNIT_ASSERT_EQUAL(1000, share(ramping, 110000));  // the ramp is over
    // The other balancers ramp through SlowStart::permille alike.
    auto cs = candidates(ts);
    const SlowStart window(std::chrono::seconds(10));
    CPPUNIT_ASSERT_EQUAL(std::int64_t{100}, window.permille(cs[2], 100000));
    CPPUNIT_ASSERT_EQUAL(std::int64_t{1000}, window.permille(cs[0], 100000));
    // An ejection sets when the target returns.
    OutlierPolicy p;
    p.consecutiveErrors = 1;
    p.baseEjectionTime = std::chrono::seconds(30);
    p.maxEjectionPercent = 100;
    TargetState t(portico::parseTargetUrl("http://10.0.0.9:80"));
    OutlierDetector(p).record(t, 502, 5000, 0, 2);
    CPPUNIT_ASSERT_EQUAL(std::int64_t{35000}, t.returnedAtMs.load());
  }

  void testRetryBudgetTable() {
    struct Case {
      int percent, requests, retries;
      bool allowed;
    };
    const Case cases[] = {
        {20, 0, 0, true},    {20, 0, 2, true},     {20, 0, 3, false},  // at least 3
        {20, 100, 19, true}, {20, 100, 20, false}, {50, 10, 4, true},  {50, 10, 5, false},
        {100, 7, 6, true},   {100, 7, 7, false},   {1, 1000, 9, true}, {1, 1000, 10, false},
    };
    for (const auto& c : cases) {
      const std::string what = std::to_string(c.percent) + "% of " + std::to_string(c.requests) +
                               " with " + std::to_string(c.retries);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what, c.allowed,
                                   RetryBudget(c.percent).allows(c.requests, c.retries));
    }
  }

  void testRetryBudgetAcquireStopsAtCap() {
    std::atomic<int> requests{50};
    std::atomic<int> retries{0};
    const RetryBudget budget(20);
    int granted = 0;
    while (budget.acquire(requests, retries) && granted < 100) ++granted;
    CPPUNIT_ASSERT_EQUAL(10, granted);
    CPPUNIT_ASSERT_EQUAL(10, retries.load());
  }

  void testOutlierErrorsTable() {
    OutlierPolicy gateway;
    gateway.consecutiveErrors = 5;
    OutlierPolicy any = gateway;
    any.anyServerError = true;
    struct Case {
      int status;
      bool gateway, any;
    };
    const Case cases[] = {{0, true, true},    {200, false, false}, {404, false, false},
                          {500, false, true}, {501, false, true},  {502, true, true},
                          {503, true, true},  {504, true, true},   {599, false, true}};
    for (const auto& c : cases) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(c.status), c.gateway,
                                   OutlierDetector(gateway).isError(c.status));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(c.status), c.any,
                                   OutlierDetector(any).isError(c.status));
    }
  }

  void testOutlierEjectionScheduleAndCap() {
    OutlierPolicy p;
    p.consecutiveErrors = 3;
    p.baseEjectionTime = std::chrono::seconds(30);
    p.maxEjectionPercent = 50;
    const OutlierDetector d(p);
    // base x n, at most 300 s.
    const std::pair<int, long> schedule[] = {{1, 30000},   {2, 60000},   {5, 150000},
                                             {10, 300000}, {11, 300000}, {100, 300000}};
    for (const auto& [n, ms] : schedule)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(n), ms,
                                   static_cast<long>(d.ejectionTime(n).count()));
    // Never more than the percentage of targets.
    const std::pair<std::size_t, std::size_t> caps[] = {{1, 0}, {2, 1}, {3, 1}, {4, 2}, {10, 5}};
    for (const auto& [targets, cap] : caps) CPPUNIT_ASSERT_EQUAL(cap, d.maxEjected(targets));

    TargetState t(portico::parseTargetUrl("http://10.0.0.1:80"));
    std::int64_t now = 1000;
    CPPUNIT_ASSERT_EQUAL(0L, static_cast<long>(d.record(t, 502, now, 0, 2).count()));
    CPPUNIT_ASSERT_EQUAL(0L, static_cast<long>(d.record(t, 502, now, 0, 2).count()));
    d.record(t, 200, now, 0, 2);  // a success breaks the run
    d.record(t, 502, now, 0, 2);
    d.record(t, 0, now, 0, 2);
    CPPUNIT_ASSERT_EQUAL(30000L, static_cast<long>(d.record(t, 504, now, 0, 2).count()));
    CPPUNIT_ASSERT_EQUAL(now + 30000, t.ejectedUntilMs.load());
    // The second ejection lasts twice as long.
    now += 31000;
    for (int i = 0; i < 2; ++i) d.record(t, 503, now, 0, 2);
    CPPUNIT_ASSERT_EQUAL(60000L, static_cast<long>(d.record(t, 503, now, 0, 2).count()));
    // At the cap (one of two already out): counted, not ejected.
    TargetState u(portico::parseTargetUrl("http://10.0.0.2:80"));
    for (int i = 0; i < 5; ++i)
      CPPUNIT_ASSERT_EQUAL(0L, static_cast<long>(d.record(u, 502, now, 1, 2).count()));
    CPPUNIT_ASSERT_EQUAL(std::int64_t{0}, u.ejectedUntilMs.load());
  }

  void testTokenBucketWithFakeClock() {
    TokenBucket bucket;
    std::int64_t now = 5 * kSecond;
    // 10/s with a capacity of 6 (burst 5 + 1): six at once, then one every 100 ms.
    for (int i = 0; i < 6; ++i) {
      const auto v = bucket.take(now, 10, 6);
      CPPUNIT_ASSERT(v.allowed);
      CPPUNIT_ASSERT_EQUAL(std::int64_t{5 - i}, v.remaining);
    }
    auto refused = bucket.take(now, 10, 6);
    CPPUNIT_ASSERT(!refused.allowed);
    CPPUNIT_ASSERT_EQUAL(std::int64_t{1}, refused.retryAfterSeconds);
    CPPUNIT_ASSERT_EQUAL(std::int64_t{1}, refused.resetSeconds);
    now += 100000;
    CPPUNIT_ASSERT(bucket.take(now, 10, 6).allowed);
    CPPUNIT_ASSERT(!bucket.take(now, 10, 6).allowed);
    // A flood over 2 s admits the burst plus the rate: 6 + 20, give or take the edge.
    TokenBucket flood;
    int admitted = 0;
    for (std::int64_t t = 0; t < 2 * kSecond; t += 1000) admitted += flood.take(t, 10, 6).allowed;
    CPPUNIT_ASSERT(admitted >= 25 && admitted <= 26);
    // Slow: Retry-After in whole seconds, at least 1, rounded up.
    TokenBucket slow;
    CPPUNIT_ASSERT(slow.take(0, 1, 1).allowed);
    const auto wait = slow.take(200000, 1, 1);
    CPPUNIT_ASSERT(!wait.allowed);
    CPPUNIT_ASSERT_EQUAL(std::int64_t{1}, wait.retryAfterSeconds);
  }

  void testTokenBucketHoldsAcrossThreads() {
    // Four threads at one instant: the bucket's 100 tokens are handed out once, not 4 times.
    TokenBucket bucket;
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) admitted += bucket.take(kSecond, 1, 100).allowed;
      });
    for (auto& th : threads) th.join();
    CPPUNIT_ASSERT_EQUAL(100, admitted.load());
  }

  void testClientBucketsAreSeparateAndBounded() {
    ClientBuckets table(32);  // 2 per stripe
    CPPUNIT_ASSERT(table.take("10.0.0.1", 0, 1, 1).allowed);
    CPPUNIT_ASSERT(!table.take("10.0.0.1", 0, 1, 1).allowed);
    CPPUNIT_ASSERT(table.take("10.0.0.2", 0, 1, 1).allowed);  // another client is served
    for (int i = 0; i < 10000; ++i) table.take("192.168." + std::to_string(i), 0, 1, 1);
    CPPUNIT_ASSERT(table.size() <= 32);
    // The flood pushed 10.0.0.1 out: forgotten, it starts again with a full bucket.
    CPPUNIT_ASSERT(table.take("10.0.0.1", 0, 1, 1).allowed);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ResilienceLogicTest);
