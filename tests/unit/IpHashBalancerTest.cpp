#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "balance/Balancer.h"
#include "balance/IpHashBalancer.h"
#include "model/Normalize.h"
#include "unit/BalancerTestSupport.h"

using portico::Balancer;
using portico::BalancerKind;
using portico::CandidateFilter;
using portico::PickState;
using portico::SlowStart;
using portico::test::AllowAll;
using portico::test::balancer;
using portico::test::candidates;
using portico::test::Deny;
using portico::test::Targets;
using portico::test::targets;

namespace {

const std::vector<std::string> kFive = {"http://10.0.1.1:8080", "http://10.0.1.2:8080",
                                        "http://10.0.1.3:8080", "http://10.0.1.4:8080",
                                        "http://10.0.1.5:8080"};

std::vector<std::string> clientKeys(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i)
    keys.push_back("192.168." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  return keys;
}

/// The canonical URL each key lands on, so balancers over different lists can be compared.
std::vector<std::string> assign(const Targets& ts, const std::vector<std::string>& keys,
                                const CandidateFilter& filter) {
  auto b = balancer(BalancerKind::IpHash, ts);
  PickState state;
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const std::size_t p = b->pick(k, filter, state, 0);
    out.push_back(p == Balancer::npos ? "" : ts[p]->url.canonical);
  }
  return out;
}

std::vector<std::string> assign(const Targets& ts, const std::vector<std::string>& keys) {
  return assign(ts, keys, AllowAll());
}

}  // namespace

/// ip_hash: consistent hashing; stable, evenly spread, minimal churn.
class IpHashBalancerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(IpHashBalancerTest);
  CPPUNIT_TEST(testSameKeySameTarget);
  CPPUNIT_TEST(testIndependentOfListOrder);
  CPPUNIT_TEST(testSpreadEvenly);
  CPPUNIT_TEST(testAddingOneMovesAboutOneNth);
  CPPUNIT_TEST(testRemovingOneMovesOnlyItsKeys);
  CPPUNIT_TEST(testFilteredFallsToNextOnRing);
  CPPUNIT_TEST(testSingleAllowedTarget);
  CPPUNIT_TEST(testHashIsNotTrivial);
  CPPUNIT_TEST(testConcurrentPicksAgree);
  CPPUNIT_TEST(testShareFollowsWeight);
  CPPUNIT_TEST(testWeightChangeMovesOnlyWhatItMust);
  CPPUNIT_TEST(testSlowStartKeepsARampingShare);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSameKeySameTarget() {
    const Targets ts = targets({kFive[0], kFive[1], kFive[2], kFive[3]});
    auto b = balancer(BalancerKind::IpHash, ts);
    AllowAll all;
    PickState state;
    for (const auto& key : clientKeys(500)) {
      const std::size_t first = b->pick(key, all, state, 0);
      CPPUNIT_ASSERT(first < ts.size());
      for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT_EQUAL(first, b->pick(key, all, state, 0));
    }
    // A rebuilt balancer (a new snapshot with the same set) answers the same.
    const auto keys = clientKeys(2000);
    CPPUNIT_ASSERT(assign(ts, keys) ==
                   assign(targets({kFive[0], kFive[1], kFive[2], kFive[3]}), keys));
  }

  void testIndependentOfListOrder() {
    const auto keys = clientKeys(2000);
    CPPUNIT_ASSERT(assign(targets({kFive[0], kFive[1], kFive[2], kFive[3]}), keys) ==
                   assign(targets({kFive[3], kFive[1], kFive[0], kFive[2]}), keys));
  }

  void testSpreadEvenly() {
    const Targets ts = targets({kFive[0], kFive[1], kFive[2], kFive[3]});
    const auto keys = clientKeys(10000);
    auto b = balancer(BalancerKind::IpHash, ts);
    PickState state;
    std::vector<int> counts(4);
    for (const auto& k : keys) ++counts[b->pick(k, AllowAll(), state, 0)];
    std::cout << "\n  ip_hash spread of 10000 keys over 4 targets:";
    for (int c : counts) {
      std::cout << " " << c;
      CPPUNIT_ASSERT_MESSAGE(std::to_string(c), c >= 1500 && c <= 3500);
    }
    std::cout << std::endl;
  }

  void testAddingOneMovesAboutOneNth() {
    const auto keys = clientKeys(10000);
    const auto before = assign(targets({kFive[0], kFive[1], kFive[2], kFive[3]}), keys);
    const auto after = assign(targets(kFive), keys);
    int moved = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (before[i] == after[i]) continue;
      ++moved;
      CPPUNIT_ASSERT_EQUAL(kFive[4], after[i]);  // keys only move to the newcomer
    }
    const double fraction = moved / double(keys.size());
    std::cout << "\n  ip_hash churn, 4 -> 5 targets: " << std::fixed << std::setprecision(1)
              << fraction * 100 << "% of 10000 keys moved (ideal 20%)" << std::endl;
    CPPUNIT_ASSERT(fraction <= 0.30);
    CPPUNIT_ASSERT(fraction >= 0.10);  // the new target does get its share
  }

  void testRemovingOneMovesOnlyItsKeys() {
    const auto keys = clientKeys(10000);
    const auto before = assign(targets(kFive), keys);
    const auto after = assign(targets({kFive[0], kFive[1], kFive[3], kFive[4]}), keys);
    int moved = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (before[i] == kFive[2]) {
        CPPUNIT_ASSERT(after[i] != kFive[2]);
        ++moved;
      } else {
        CPPUNIT_ASSERT_EQUAL(before[i], after[i]);
      }
    }
    CPPUNIT_ASSERT(moved > 1000 && moved < 3000);
  }

  /// A cooling-down target's clients go where they would go without it; nobody else moves.
  void testFilteredFallsToNextOnRing() {
    const auto keys = clientKeys(10000);
    const Targets all5 = targets(kFive);
    const auto normal = assign(all5, keys);
    const auto filtered = assign(all5, keys, Deny({2}));
    const auto removed = assign(targets({kFive[0], kFive[1], kFive[3], kFive[4]}), keys);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      CPPUNIT_ASSERT(filtered[i] != kFive[2]);
      if (normal[i] != kFive[2]) CPPUNIT_ASSERT_EQUAL(normal[i], filtered[i]);
      CPPUNIT_ASSERT_EQUAL(removed[i], filtered[i]);
    }
  }

  void testSingleAllowedTarget() {
    const Targets ts = targets(kFive);
    auto b = balancer(BalancerKind::IpHash, ts);
    PickState state;
    Deny onlyLast({0, 1, 2, 3});
    for (const auto& k : clientKeys(200))
      CPPUNIT_ASSERT_EQUAL(std::size_t(4), b->pick(k, onlyLast, state, 0));
    CPPUNIT_ASSERT_EQUAL(Balancer::npos, b->pick("1.2.3.4", Deny({0, 1, 2, 3, 4}), state, 0));
  }

  void testHashIsNotTrivial() {
    using portico::IpHashBalancer;
    CPPUNIT_ASSERT(IpHashBalancer::hash("10.0.0.1") != IpHashBalancer::hash("10.0.0.2"));
    CPPUNIT_ASSERT_EQUAL(IpHashBalancer::hash("10.0.0.1"), IpHashBalancer::hash("10.0.0.1"));
    // Neighbouring keys differ in about half of the bits (the finalizer's avalanche).
    int bits = 0;
    for (int i = 0; i < 256; ++i)
      bits += __builtin_popcountll(IpHashBalancer::hash("10.0.0." + std::to_string(i)) ^
                                   IpHashBalancer::hash("10.0.0." + std::to_string(i + 1)));
    const double mean = bits / 256.0;
    CPPUNIT_ASSERT_MESSAGE(std::to_string(mean), mean > 28 && mean < 36);
  }

  void testConcurrentPicksAgree() {
    const Targets ts = targets(kFive);
    const auto keys = clientKeys(2000);
    const auto expected = assign(ts, keys);
    auto b = balancer(BalancerKind::IpHash, ts);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        AllowAll all;
        PickState state;
        for (int round = 0; round < 20; ++round)
          for (std::size_t i = 0; i < keys.size(); ++i)
            if (ts[b->pick(keys[i], all, state, 0)]->url.canonical != expected[i]) ++mismatches;
      });
    for (auto& th : threads) th.join();
    CPPUNIT_ASSERT_EQUAL(0, mismatches.load());
  }
  /// Shares over 100,000 client keys follow the weights within 3 percentage points.
  void testShareFollowsWeight() {
    const auto keys = clientKeys(100000);
    const std::vector<std::vector<int>> cases = {
        {100, 300}, {100, 200, 300, 400}, {1, 3}, {10, 1000}};
    for (const auto& weights : cases) {
      const Targets ts = targets(weights.size());
      auto b = balancer(BalancerKind::IpHash, ts, weights);
      PickState state;
      std::vector<int> counts(weights.size());
      for (const auto& k : keys) ++counts[b->pick(k, AllowAll(), state, 0)];
      const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
      std::cout << "\n  ip_hash shares for weights";
      for (int w : weights) std::cout << " " << w;
      std::cout << ":";
      for (std::size_t i = 0; i < weights.size(); ++i) {
        const double share = counts[i] * 100.0 / keys.size();
        const double expected = weights[i] * 100.0 / total;
        std::cout << " " << std::fixed << std::setprecision(1) << share << "% (" << expected << ")";
        CPPUNIT_ASSERT_MESSAGE(std::to_string(share) + " vs " + std::to_string(expected),
                               std::abs(share - expected) <= 3.0);
      }
    }
    std::cout << std::endl;
  }

  void testWeightChangeMovesOnlyWhatItMust() {
    const auto keys = clientKeys(20000);
    const Targets ts = targets({kFive[0], kFive[1], kFive[2]});
    auto assignWeights = [&](const std::vector<int>& weights) {
      auto b = balancer(BalancerKind::IpHash, ts, weights);
      PickState state;
      std::vector<std::size_t> out;
      for (const auto& k : keys) out.push_back(b->pick(k, AllowAll(), state, 0));
      return out;
    };
    const auto before = assignWeights({100, 100, 100});
    const auto after = assignWeights({100, 100, 50});
    for (std::size_t i = 0; i < keys.size(); ++i) {
      // Halving the third target's weight moves only some of its own clients, to the others.
      if (before[i] != 2) CPPUNIT_ASSERT_EQUAL(before[i], after[i]);
    }
  }

  void testSlowStartKeepsARampingShare() {
    const auto keys = clientKeys(20000);
    const Targets ts = targets({kFive[0], kFive[1], kFive[2]});
    auto cs = candidates(ts);
    const auto warm = portico::makeBalancer(BalancerKind::IpHash, cs);
    cs[2].warmFromMs = 0;  // came back at t=0, 10 s window
    const auto ramping =
        portico::makeBalancer(BalancerKind::IpHash, cs, SlowStart(std::chrono::seconds(10)));
    PickState state;
    for (const std::int64_t now : {0, 5000, 10000}) {
      const double permille = now == 0 ? 100 : now == 5000 ? 550 : 1000;
      int owned = 0;
      int kept = 0;
      for (const auto& k : keys) {
        const std::size_t full = warm->pick(k, AllowAll(), state, now);
        const std::size_t got = ramping->pick(k, AllowAll(), state, now);
        if (full != 2) {
          CPPUNIT_ASSERT_EQUAL(full, got);  // nobody else's clients move
          continue;
        }
        ++owned;
        if (got == 2) ++kept;
        // The same client gets the same answer while the ramp stands still.
        CPPUNIT_ASSERT_EQUAL(got, ramping->pick(k, AllowAll(), state, now));
      }
      const double share = kept * 1000.0 / owned;
      CPPUNIT_ASSERT_MESSAGE(std::to_string(now) + ": " + std::to_string(share),
                             std::abs(share - permille) <= 40);
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IpHashBalancerTest);
