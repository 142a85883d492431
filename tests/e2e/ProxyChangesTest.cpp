#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "e2e/ProxyTestHarness.h"

using namespace portico::test;

/// Store changes and backend failures while requests are in flight.
class ProxyChangesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyChangesTest);
  CPPUNIT_TEST(testRemovedTargetFinishesInFlightAndGetsNothingNew);
  CPPUNIT_TEST(testKilledBackendFailsOnlyRequestsInFlight);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRemovedTargetFinishesInFlightAndGetsNothingNew() {
    Stack s;
    s.echo("old");
    s.echo("new");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/drain/", {s.url("old")});

    SlowRequests slow(proxy, "/drain/slow?delay=2500ms", 20);
    // The checks at the end make sure: every slow request must have been answered by the old
    // target.
    const bool inFlight = slow.reached(s.echoPort("old"));
    s.add("/drain/", {s.url("new")});
    s.remove("/drain/", {s.url("old")});
    // Once the removal is loaded, every new request goes to the remaining target.
    s.awaitProxyRevision(proxy, s.storeRevision());
    for (int i = 0; i < 20; ++i) {
      const auto res = http(proxy, "GET", "/drain/after");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(res.error, 200, res.status);
      CPPUNIT_ASSERT_EQUAL(std::string("new"), field(res.body, "name"));
    }
    const auto& results = slow.join();
    CPPUNIT_ASSERT_MESSAGE("the slow requests never all reached the old target", inFlight);
    for (const auto& r : results) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("old"), field(r.body, "name"));
    }
  }

  void testKilledBackendFailsOnlyRequestsInFlight() {
    Stack s;
    s.echo("stays");
    s.echo("dies");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {s.url("stays"), s.url("dies")});

    using Clock = std::chrono::steady_clock;
    struct Outcome {
      Clock::time_point start;
      int status;
    };
    constexpr int kClients = 4;
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<Outcome> outcomes;
    ThreadGroup clients;
    for (int i = 0; i < kClients; ++i) {
      clients.spawn([&] {
        while (!stop) {
          const auto start = Clock::now();
          const auto res = http(proxy, "GET", "/proxy/x?delay=30ms", "", {}, 10s);
          std::lock_guard<std::mutex> lock(mutex);
          outcomes.push_back({start, res.status});
        }
      });
    }
    const auto enough = [&](std::size_t n) {
      return waitUntil(
          [&] {
            std::lock_guard<std::mutex> lock(mutex);
            return outcomes.size() >= n;
          },
          20s);
    };
    CPPUNIT_ASSERT(enough(40));
    s.echoProcess("dies").kill9();
    const auto killed = Clock::now();  // kill9 returns once the process (and its sockets) are gone
    std::size_t atKill = 0;
    {
      std::lock_guard<std::mutex> lock(mutex);
      atKill = outcomes.size();
    }
    CPPUNIT_ASSERT(enough(atKill + 100));
    stop = true;
    clients.join();

    int failedBefore = 0;
    int after = 0;
    for (const auto& o : outcomes) {
      if (o.start >= killed) {
        ++after;
        CPPUNIT_ASSERT_EQUAL_MESSAGE("a request sent after the kill failed", 200, o.status);
      } else if (o.status != 200) {
        ++failedBefore;
      }
    }
    CPPUNIT_ASSERT(after >= 100 - kClients);
    // At most the requests in flight at the kill (one per client) may fail.
    CPPUNIT_ASSERT_MESSAGE(std::to_string(failedBefore) + " requests failed",
                           failedBefore <= kClients);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyChangesTest);
