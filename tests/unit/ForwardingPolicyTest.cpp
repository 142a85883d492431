#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <string>
#include <vector>

#include "balance/PickState.h"
#include "forward/ForwardingPolicy.h"
#include "http/HttpHead.h"
#include "routing/RouteTable.h"
#include "store/StoreTime.h"

using portico::BalancerKind;
using portico::ForwardingPolicy;
using portico::PickStates;
using portico::ProxyContext;
using portico::Route;
using portico::RouteRecord;
using portico::RouteTable;
using portico::ServingState;
using portico::SnapshotClock;
using portico::TargetRecord;
using portico::TargetState;
using portico::TrustedProxies;
using portico::UpstreamTimeouts;
using portico::http::HttpHead;

namespace {

struct T {
  std::string url;
  int weight{100};
  ServingState state{ServingState::Active};
  bool healthy{true};
  std::string servingSince{};
};

RouteRecord route(const std::string& prefix, const std::vector<T>& targets,
                  std::chrono::milliseconds slowStart = std::chrono::milliseconds(0)) {
  RouteRecord r;
  r.prefix = prefix;
  r.balancer = BalancerKind::RoundRobin;
  r.health.slowStart = slowStart;
  std::int64_t id = 1;
  for (const auto& t : targets) {
    TargetRecord rec;
    rec.id = id++;
    rec.url = t.url;
    rec.weight = t.weight;
    rec.state = t.state;
    rec.healthy = t.healthy;
    rec.servingSince = t.servingSince;
    r.targets.push_back(rec);
  }
  return r;
}

HttpHead get() {
  HttpHead h;
  h.setMethod(h.own("GET"));
  h.setTarget(h.own("/p/x"));
  h.setVersion(1, 1);
  h.addOwned("Host", "example");
  return h;
}

}  // namespace

/// ForwardingPolicy's use of the balancers: every pick goes through the caller's own
/// PickStates (one per event loop or handler thread) at the steady-clock time it is given, only
/// targets in rotation are candidates, and the 503 says why none is.
class ForwardingPolicyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ForwardingPolicyTest);
  CPPUNIT_TEST(testLoopsShareOneWeightedRotation);
  CPPUNIT_TEST(testRetryTakesAnotherTarget);
  CPPUNIT_TEST(testSlowStartFollowsTheCallersClock);
  CPPUNIT_TEST(testNoTargetInRotationSaysWhy);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    context_ = std::make_unique<ProxyContext>(
        ProxyContext{UpstreamTimeouts{}, TrustedProxies({}), nullptr, nullptr});
  }
  void tearDown() override { context_.reset(); }

  void testLoopsShareOneWeightedRotation() {
    const auto table =
        RouteTable::build({route("/p/", {{"http://a:1", 300}, {"http://b:1", 100}})}, nullptr, 1);
    const Route& r = *table->find("/p/");
    PickStates loopA(0);
    PickStates loopB(1);
    std::string seq;
    // Interleaved, as two loops would serve requests: together they follow the route's one
    // smooth weighted rotation (3:1 in every 4), whichever loop takes each request (issue #20;
    // each loop kept its own rotation before).
    for (int i = 0; i < 16; ++i) {
      seq += pickOne(r, loopA, 0);
      if (i % 2 == 0) seq += pickOne(r, loopB, 0);
    }
    for (std::size_t at = 0; at + 4 <= seq.size(); at += 4) {
      const std::string window = seq.substr(at, 4);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(seq, 3L, std::count(window.begin(), window.end(), 'a'));
    }
    // Smooth, not in bursts: b never comes twice in a row, a never four times.
    CPPUNIT_ASSERT_EQUAL_MESSAGE(seq, std::string::npos, seq.find("bb"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(seq, std::string::npos, seq.find("aaaa"));
  }

  void testRetryTakesAnotherTarget() {
    const auto table =
        RouteTable::build({route("/p/", {{"http://a:1"}, {"http://b:1"}})}, nullptr, 1);
    const Route& r = *table->find("/p/");
    PickStates picks(0);
    const HttpHead head = get();
    ForwardingPolicy policy(*context_, r, head, "", "10.0.0.9", false, false);
    TargetState* first = policy.nextTarget(picks, 0);
    CPPUNIT_ASSERT(first);
    CPPUNIT_ASSERT_EQUAL(1, first->inFlight.load());
    policy.connectFailed("connect: Connection refused", 0);
    TargetState* second = policy.nextTarget(picks, 0);
    CPPUNIT_ASSERT(second && second != first);
    CPPUNIT_ASSERT_EQUAL(0, first->inFlight.load());
    CPPUNIT_ASSERT(!policy.nextTarget(picks, 0));
    CPPUNIT_ASSERT_EQUAL(502, policy.exhausted().status);
  }

  void testSlowStartFollowsTheCallersClock() {
    // b has just come back (serving since the snapshot's wall-clock time) on a 10 s ramp.
    const SnapshotClock clock{1796149798000LL, 5000000LL};
    const std::string now = "2026-12-01T18:29:58.000Z";
    CPPUNIT_ASSERT_EQUAL(clock.systemMs, *portico::storeTimeMs(now));
    const auto table = RouteTable::build(
        {route("/p/",
               {{"http://a:1", 100, ServingState::Active, true, "2026-12-01T17:00:00.000Z"},
                {"http://b:1", 100, ServingState::Active, true, now}},
               std::chrono::seconds(10))},
        nullptr, 1, nullptr, 0, nullptr, clock);
    const Route& r = *table->find("/p/");
    // At the start of its ramp b has 10 % of its weight: 1 pick in 11.
    PickStates early(0);
    std::string seq;
    for (int i = 0; i < 22; ++i) seq += pickOne(r, early, clock.steadyMs);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(seq, 2L, std::count(seq.begin(), seq.end(), 'b'));
    // Once the window has passed (on the clock the caller gives), both weigh the same.
    PickStates late(0);
    seq.clear();
    for (int i = 0; i < 20; ++i) seq += pickOne(r, late, clock.steadyMs + 10000);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(seq, 10L, std::count(seq.begin(), seq.end(), 'b'));
  }

  void testNoTargetInRotationSaysWhy() {
    const struct {
      std::vector<T> targets;
      const char* message;
    } table[] = {
        {{}, "route /p/ has no targets"},
        {{{"http://a:1", 100, ServingState::Active, false},
          {"http://b:1", 100, ServingState::Active, false}},
         "no healthy target for route /p/"},
        {{{"http://a:1", 100, ServingState::Draining},
          {"http://b:1", 100, ServingState::Disabled},
          {"http://c:1", 0},
          {"http://d:1", 100, ServingState::Active, false}},
         "no target in rotation for route /p/ (1 unhealthy, 1 draining, 1 disabled, 1 with "
         "weight 0)"},
        {{{"http://a:1", 100, ServingState::Draining}, {"http://b:1", 100, ServingState::Draining}},
         "no target in rotation for route /p/ (2 draining)"},
    };
    for (const auto& row : table) {
      const auto routes = RouteTable::build({route("/p/", row.targets)}, nullptr, 1);
      const Route& r = *routes->find("/p/");
      PickStates picks(0);
      const HttpHead head = get();
      ForwardingPolicy policy(*context_, r, head, "", "10.0.0.9", false, false);
      CPPUNIT_ASSERT_MESSAGE(row.message, !policy.nextTarget(picks, 0));
      const auto answer = policy.exhausted();
      CPPUNIT_ASSERT_EQUAL(503, answer.status);
      CPPUNIT_ASSERT_EQUAL(std::string(row.message), answer.message);
    }
  }

 private:
  /// One request's first pick on `picks` at `nowMs`: the target's host letter.
  char pickOne(const Route& r, PickStates& picks, std::int64_t nowMs) {
    const HttpHead head = get();
    ForwardingPolicy policy(*context_, r, head, "", "10.0.0.9", false, false);
    TargetState* t = policy.nextTarget(picks, nowMs);
    CPPUNIT_ASSERT(t);
    policy.release();
    return t->url.host[0];
  }

  std::unique_ptr<ProxyContext> context_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ForwardingPolicyTest);
