// The proxies' states (GET /endpoints/proxies, `wait`, the metrics) as pure rules over a roster:
// the roster's clock is the fake clock.

#include <cppunit/extensions/HelperMacros.h>

#include "observe/ProxyStates.h"

using portico::AppliedBy;
using portico::ProxyCensus;
using portico::ProxyRecord;
using portico::ProxyRoster;
using portico::ProxyState;
using portico::ProxyStateRules;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;  // ms since the epoch, on the store's clock

ProxyRecord proxy(const std::string& id, std::int64_t revision, std::int64_t lastSeen,
                  std::optional<std::int64_t> behindSince = std::nullopt) {
  ProxyRecord p;
  p.id = id;
  p.revision = revision;
  p.lastSeenMs = lastSeen;
  p.appliedAtMs = lastSeen;
  p.heartbeatMs = 2000;
  p.behindSinceMs = behindSince;
  return p;
}

ProxyRoster roster(std::int64_t revision, std::int64_t now, std::vector<ProxyRecord> proxies) {
  ProxyRoster r;
  r.revision = revision;
  r.nowMs = now;
  r.proxies = std::move(proxies);
  return r;
}

ProxyState stateAt(const ProxyRecord& p, std::int64_t revision, std::int64_t now,
                   const ProxyStateRules& rules = {}) {
  return portico::proxyState(p, roster(revision, now, {p}), rules);
}

}  // namespace

class ProxyStatesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyStatesTest);
  CPPUNIT_TEST(testLiveWhileBeatingAtTheRevision);
  CPPUNIT_TEST(testBehindAfterOneSecondAtAnOlderRevision);
  CPPUNIT_TEST(testBehindWhenTheHistoryNoLongerSays);
  CPPUNIT_TEST(testStaleAfterThreeMissedBeats);
  CPPUNIT_TEST(testForgottenAfterForgetAfter);
  CPPUNIT_TEST(testAppliedByCountsOnlyFollowers);
  CPPUNIT_TEST(testCensusAndLag);
  CPPUNIT_TEST(testNames);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testLiveWhileBeatingAtTheRevision() {
    const auto p = proxy("a", 7, kStart);
    CPPUNIT_ASSERT(stateAt(p, 7, kStart) == ProxyState::Live);
    // Three intervals (6 s) without a beat are still live; a millisecond more is not.
    CPPUNIT_ASSERT(stateAt(p, 7, kStart + 6000) == ProxyState::Live);
    CPPUNIT_ASSERT(stateAt(p, 7, kStart + 6001) == ProxyState::Stale);
  }

  void testBehindAfterOneSecondAtAnOlderRevision() {
    // Revision 8 was committed at kStart; the proxy still serves 7.
    const auto p = proxy("a", 7, kStart + 500, kStart);
    CPPUNIT_ASSERT(stateAt(p, 8, kStart + 500) == ProxyState::Live);
    CPPUNIT_ASSERT(stateAt(p, 8, kStart + 1000) == ProxyState::Live);
    CPPUNIT_ASSERT(stateAt(p, 8, kStart + 1001) == ProxyState::Behind);
    // A longer allowance is the rules' to set.
    ProxyStateRules lenient;
    lenient.behindAfter = 5s;
    CPPUNIT_ASSERT(stateAt(p, 8, kStart + 1001, lenient) == ProxyState::Live);
    // Catching up makes it live again at once.
    CPPUNIT_ASSERT(stateAt(proxy("a", 8, kStart + 1200), 8, kStart + 1200) == ProxyState::Live);
  }

  void testBehindWhenTheHistoryNoLongerSays() {
    // The first change it lacks was trimmed from the history: it was long ago.
    CPPUNIT_ASSERT(stateAt(proxy("a", 3, kStart), 9, kStart) == ProxyState::Behind);
  }

  void testStaleAfterThreeMissedBeats() {
    // Stale wins over behind: a silent proxy is not waited for, whatever it served.
    const auto p = proxy("a", 7, kStart, kStart);
    CPPUNIT_ASSERT(stateAt(p, 8, kStart + 6001) == ProxyState::Stale);
    // Each row's own interval counts: a proxy beating every 10 s is live for 30 s.
    auto slow = proxy("b", 8, kStart);
    slow.heartbeatMs = 10000;
    CPPUNIT_ASSERT(stateAt(slow, 8, kStart + 30000) == ProxyState::Live);
    CPPUNIT_ASSERT(stateAt(slow, 8, kStart + 30001) == ProxyState::Stale);
    ProxyStateRules five;
    five.staleBeats = 5;
    CPPUNIT_ASSERT(stateAt(p, 7, kStart + 10000, five) == ProxyState::Live);
  }

  void testForgottenAfterForgetAfter() {
    ProxyStateRules rules;
    rules.forgetAfter = 1min;
    const auto p = proxy("a", 7, kStart);
    CPPUNIT_ASSERT(stateAt(p, 7, kStart + 60000, rules) == ProxyState::Stale);
    CPPUNIT_ASSERT(stateAt(p, 7, kStart + 60001, rules) == ProxyState::Forgotten);
    CPPUNIT_ASSERT(stateAt(p, 7, kStart + 3600001) == ProxyState::Forgotten);  // default 1 h
  }

  void testAppliedByCountsOnlyFollowers() {
    const auto r =
        roster(10, kStart + 100,
               {proxy("live-at-10", 10, kStart), proxy("just-behind", 9, kStart, kStart),
                proxy("long-behind", 8, kStart, kStart - 5000),
                proxy("stale-at-10", 10, kStart - 7000), proxy("forgotten", 10, kStart - 4000000)});
    // Live and behind proxies are waited for; stale and forgotten ones are not.
    AppliedBy by = portico::appliedBy(r, 10, {});
    CPPUNIT_ASSERT_EQUAL(1, by.applied);
    CPPUNIT_ASSERT_EQUAL(3, by.following);
    CPPUNIT_ASSERT(!by.everywhere());
    CPPUNIT_ASSERT_EQUAL(std::string("1/3"), by.text());
    // An older revision is served by every proxy at it or later.
    by = portico::appliedBy(r, 8, {});
    CPPUNIT_ASSERT_EQUAL(std::string("3/3"), by.text());
    CPPUNIT_ASSERT(by.everywhere());
    // No proxy at all: nothing to wait for.
    CPPUNIT_ASSERT(portico::appliedBy(roster(10, kStart, {}), 10, {}).everywhere());
    CPPUNIT_ASSERT_EQUAL(std::string("0/0"),
                         portico::appliedBy(roster(10, kStart, {}), 10, {}).text());
  }

  void testCensusAndLag() {
    const auto r =
        roster(10, kStart + 2500,
               {proxy("a", 10, kStart + 2000), proxy("b", 9, kStart + 2000, kStart + 2000),
                proxy("c", 7, kStart + 2000, kStart), proxy("d", 2, kStart - 7000)});
    const auto c = ProxyCensus::of(r, {});
    CPPUNIT_ASSERT_EQUAL(2, c.live);  // b is behind for 0.5 s only
    CPPUNIT_ASSERT_EQUAL(1, c.behind);
    CPPUNIT_ASSERT_EQUAL(1, c.stale);
    // The stale proxy's lag (8 revisions) does not count: it no longer follows.
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3), c.lagRevisions);
    CPPUNIT_ASSERT_DOUBLES_EQUAL(2.5, c.lagSeconds, 1e-9);
    const auto none = ProxyCensus::of(roster(10, kStart, {}), {});
    CPPUNIT_ASSERT_EQUAL(0, none.live + none.behind + none.stale);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(0), none.lagRevisions);
  }

  void testNames() {
    CPPUNIT_ASSERT_EQUAL(std::string("live"), portico::toString(ProxyState::Live));
    CPPUNIT_ASSERT_EQUAL(std::string("behind"), portico::toString(ProxyState::Behind));
    CPPUNIT_ASSERT_EQUAL(std::string("stale"), portico::toString(ProxyState::Stale));
    CPPUNIT_ASSERT_EQUAL(std::string("forgotten"), portico::toString(ProxyState::Forgotten));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyStatesTest);
