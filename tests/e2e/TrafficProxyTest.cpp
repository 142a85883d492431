#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "e2e/ProxyTestHarness.h"

using namespace portico::test;

namespace {

/// The route body of `balancer` over `light` (weight 1) and `heavy` (weight 3).
std::string weightedRoute(const std::string& prefix, const std::string& balancer,
                          const std::string& light, const std::string& heavy) {
  return "{\"prefixPath\":" + quoted(prefix) + ",\"balancer\":" + quoted(balancer) +
         ",\"targets\":[{\"target\":" + quoted(light) +
         ",\"weight\":1},{\"target\":" + quoted(heavy) + ",\"weight\":3}]}";
}

}  // namespace

/// Weights and serving states as the real proxy honours them.
class TrafficProxyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TrafficProxyTest);
  CPPUNIT_TEST(testWeightsOneToThreeSplitRequests);
  CPPUNIT_TEST(testDrainingFinishesInFlightAndGetsNoNewRequest);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testWeightsOneToThreeSplitRequests() {
    Stack s;
    s.echo("light");
    s.echo("heavy");
    const int proxy = s.proxy({"proxy.access_log=off"});
    const std::vector<std::string> balancers{"round_robin", "least_conn", "ip_hash"};
    for (const auto& b : balancers) {
      const auto r = s.admin("POST", "/endpoints/routes",
                             weightedRoute("/" + b + "/", b, s.url("light"), s.url("heavy")));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
      s.awaitStatusChange(proxy, "/" + b + "/", 404);
    }
    for (const auto& b : balancers) {
      // 4,000 requests from 4 clients on keep-alive connections; ip_hash sees 4,000 client
      // addresses (the proxy believes X-Forwarded-For from loopback). least_conn follows the
      // weights exactly when its targets tie on load, as with one client at a time; with a
      // few requests in flight it favours whichever is emptiest for its weight (so the light
      // target gets more than a quarter), and under load in-flight counts follow the weights
      // (balancer unit tests).
      const int kClients = b == "least_conn" ? 1 : 4;
      const int kEach = 4000 / kClients;
      std::atomic<int> light{0}, heavy{0}, failed{0};
      ThreadGroup clients;
      for (int c = 0; c < kClients; ++c) {
        clients.spawn([&, c] {
          KeepAliveClient client(proxy);
          for (int i = 0; i < kEach; ++i) {
            const int n = c * kEach + i;
            std::map<std::string, std::string> headers;
            if (b == "ip_hash")
              headers["X-Forwarded-For"] =
                  "10.7." + std::to_string(n / 256) + "." + std::to_string(n % 256);
            const std::string name = tryField(client.get("/" + b + "/w", headers).body, "name");
            if (name == "light") {
              ++light;
            } else if (name == "heavy") {
              ++heavy;
            } else {
              ++failed;
            }
          }
        });
      }
      clients.join();
      const double share = light * 100.0 / (kClients * kEach);
      std::cout << "\n  " << b << " weights 1:3 over 4000 requests: " << light << " / " << heavy
                << " (" << share << "% to the weight-1 target)" << std::endl;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(b, 0, failed.load());
      CPPUNIT_ASSERT_MESSAGE(b + ": " + std::to_string(share), std::abs(share - 25.0) <= 3.0);
    }

    // Weight 0: no new requests, within the reload interval.
    const auto r = s.admin("PATCH", "/endpoints?prefixPath=/round_robin/&target=" + s.url("light"),
                           R"({"weight":0})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    KeepAliveClient client(proxy);
    // The change is loaded once a request fails to alternate back to the light target.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          for (int i = 0; i < 4; ++i)
            if (tryField(client.get("/round_robin/").body, "name") != "heavy") return false;
          return true;
        },
        5s, 5ms));
    for (int i = 0; i < 100; ++i)
      CPPUNIT_ASSERT_EQUAL(std::string("heavy"), field(client.get("/round_robin/z").body, "name"));
  }

  void testDrainingFinishesInFlightAndGetsNoNewRequest() {
    Stack s;
    s.echo("old");
    s.echo("new");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/drain/", {s.url("old")});

    SlowRequests slow(proxy, "/drain/slow?delay=2500ms", 20);
    // The checks at the end make sure every one was answered by the old target.
    const bool inFlight = slow.reached(s.echoPort("old"));
    // (No assertion may throw while the client threads run: results are checked after joining.)
    const auto added = s.admin("POST", "/endpoints/add", targetsBody("/drain/", {s.url("new")}));
    const auto drained = s.admin("PATCH", "/endpoints?prefixPath=/drain/&target=" + s.url("old"),
                                 R"({"state":"draining"})");
    // Once the drain is loaded, every new request goes to the other target, while the 20 run on.
    const bool moved = waitUntil(
        [&] {
          for (int i = 0; i < 3; ++i)
            if (tryField(http(proxy, "GET", "/drain/").body, "name") != "new") return false;
          return true;
        },
        5s);
    std::vector<std::string> after;
    for (int i = 0; i < 20; ++i)
      after.push_back(tryField(http(proxy, "GET", "/drain/n").body, "name"));
    const auto& results = slow.join();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(added.body, 200, added.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(drained.body, 200, drained.status);
    CPPUNIT_ASSERT_MESSAGE("the slow requests never all reached the old target", inFlight);
    CPPUNIT_ASSERT_MESSAGE("requests still went to the draining target after 5 s", moved);
    for (const auto& name : after) CPPUNIT_ASSERT_EQUAL(std::string("new"), name);
    for (const auto& r : results) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("old"), field(r.body, "name"));
    }
    // Nothing new reached it while draining (the in-flight ones are done by now).
    for (int i = 0; i < 20; ++i)
      CPPUNIT_ASSERT_EQUAL(std::string("new"), field(http(proxy, "GET", "/drain/m").body, "name"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("draining"),
        sqlite(s.store(), "SELECT state FROM targets WHERE url = '" + s.url("old") + "'"));

    // Re-enabled, it is back in rotation.
    const auto back = s.admin("PATCH", "/endpoints?prefixPath=/drain/&target=" + s.url("old"),
                              R"({"state":"active"})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(back.body, 200, back.status);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return tryField(http(proxy, "GET", "/drain/").body, "name") == "old"; }, 5s));

    // Nothing left in rotation: the 503 says why (the operator's own doing, not health).
    s.admin("PATCH", "/endpoints?prefixPath=/drain/&target=" + s.url("old"),
            R"({"state":"draining"})");
    s.admin("PATCH", "/endpoints?prefixPath=/drain/&target=" + s.url("new"),
            R"({"state":"disabled"})");
    HttpResult none;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          none = http(proxy, "GET", "/drain/");
          return none.status == 503;
        },
        5s));
    CPPUNIT_ASSERT_EQUAL(std::string("no target in rotation for route /drain/ (1 draining, 1 "
                                     "disabled)"),
                         field(none.body, "error"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TrafficProxyTest);
