// Three proxies and two sidecars on one PostgreSQL store: changes reach every process, health
// checks are shared through leases (one verdict per transition, taken over when a sidecar
// dies), and a database restart under load costs neither requests nor a restart.

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <iostream>
#include <set>
#include <thread>

#include "e2e/ClusterHarness.h"

using namespace std::chrono_literals;
using portico::test::Cluster;
using portico::test::http;
using portico::test::HttpResult;
using portico::test::parseObject;
using portico::test::PostgresServer;
using portico::test::targetsBody;
using portico::test::waitUntil;

namespace {

PostgresServer& server() {
  static PostgresServer instance;
  return instance;
}

/// Which backends answered `n` requests for `path` through the proxy on `port`.
std::set<std::string> backends(int port, const std::string& path, int n = 8) {
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    const auto r = http(port, "GET", path);
    seen.insert(r.status == 200 ? r.header("x-backend") : "status " + std::to_string(r.status));
  }
  return seen;
}

/// target URL -> checkedBy ("" when null) through a sidecar's list.
std::map<std::string, std::string> checkers(portico::test::Sidecar& s, const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const auto& [url, t] : s.list(prefix))
    out[url] = t->isNull("checkedBy") ? "" : t->getValue<std::string>("checkedBy");
  return out;
}

std::string routeBody(const std::string& prefix, const std::vector<std::string>& targets,
                      const std::string& interval) {
  return targetsBody(prefix, targets,
                     ",\"healthCheck\":{\"interval\":\"" + interval + "\",\"timeout\":\"200ms\"}");
}

}  // namespace

class SeveralProxiesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SeveralProxiesTest);
  CPPUNIT_TEST(testChangeThroughOneSidecarReachesAll);
  CPPUNIT_TEST(testDyingTargetMarkedDownOnce);
  CPPUNIT_TEST(testKill9OfLeaseHolderIsTakenOver);
  CPPUNIT_TEST(testDatabaseRestartUnderLoad);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testChangeThroughOneSidecarReachesAll() {
    Cluster c(server());
    auto& a = c.sidecar("A");
    auto& b = c.sidecar("B");
    const std::vector<int> proxies{c.proxy(), c.proxy(), c.proxy()};
    const auto e1 = c.echo("e1");
    const auto created = a.request("POST", "/endpoints/routes", routeBody("/svc/", {e1}, "1s"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 201, created.status);
    for (int port : proxies) {
      CPPUNIT_ASSERT(waitUntil(
          [&] { return backends(port, "/svc/x", 2) == std::set<std::string>{"e1"}; }, 5s));
    }
    CPPUNIT_ASSERT_EQUAL(std::string("true"), b.listed("/svc/", e1));
    // A target added through B is served by all three proxies and listed by A.
    const auto e2 = c.echo("e2");
    const auto added = b.request("POST", "/endpoints/add", targetsBody("/svc/", {e2}));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(added.body, 200, added.status);
    CPPUNIT_ASSERT_EQUAL(std::string("true"), a.listed("/svc/", e2));
    for (int port : proxies) {
      CPPUNIT_ASSERT(waitUntil([&] { return backends(port, "/svc/x", 6).count("e2") == 1; }, 5s));
    }
    // Two creates of one route through different sidecars at once: one 201, one 409.
    HttpResult first;
    HttpResult second;
    std::thread t1(
        [&] { first = a.request("POST", "/endpoints/routes", routeBody("/race/", {e1}, "5s")); });
    std::thread t2(
        [&] { second = b.request("POST", "/endpoints/routes", routeBody("/race/", {e1}, "5s")); });
    t1.join();
    t2.join();
    CPPUNIT_ASSERT_MESSAGE(
        first.body + " / " + second.body,
        (std::set<int>{201, 409}) == (std::set<int>{first.status, second.status}));
  }

  void testDyingTargetMarkedDownOnce() {
    Cluster c(server());
    auto& a = c.sidecar("A");
    auto& b = c.sidecar("B");
    const std::vector<int> proxies{c.proxy(), c.proxy(), c.proxy()};
    const auto e1 = c.echo("e1");
    const auto e2 = c.echo("e2");
    const auto e3 = c.echo("e3");
    const auto r =
        a.request("POST", "/endpoints/routes", routeBody("/svc/", {e1, e2, e3}, "200ms"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    // Every target has one checker, and both sidecars check some.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          std::set<std::string> who;
          for (const auto& [url, id] : checkers(b, "/svc/")) who.insert(id);
          return who == std::set<std::string>{"A", "B"};
        },
        10s, 100ms));
    c.echoProcess("e2").kill9();
    CPPUNIT_ASSERT(waitUntil([&] { return a.listed("/svc/", e2) == "false"; }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string("false"), b.listed("/svc/", e2));
    for (int port : proxies) {
      CPPUNIT_ASSERT(waitUntil(
          [&] {
            return backends(port, "/svc/x", 9) == std::set<std::string>{"e1", "e3"};
          },
          5s));
    }
    // Probes go on every 200 ms; the verdict was written once, by one sidecar, and stays.
    const std::string count =
        "SELECT count(*), min(client), max(client) FROM changes WHERE "
        "action = 'target.health' AND target = '" +
        e2 + "'";
    const auto once = c.query(count);
    CPPUNIT_ASSERT(portico::test::holdsFor([&] { return c.query(count) == once; }, 1500ms, 100ms));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), once.substr(0, once.find('|')));
    std::cerr << "\n[several] e2 marked down once: " << once << std::endl;
  }

  void testKill9OfLeaseHolderIsTakenOver() {
    Cluster c(server());
    auto& a = c.sidecar("A");
    c.sidecar("B");
    std::vector<std::string> targets;
    for (const char* n : {"e1", "e2", "e3", "e4"}) targets.push_back(c.echo(n));
    const auto r = a.request("POST", "/endpoints/routes", routeBody("/svc/", targets, "300ms"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          std::set<std::string> who;
          for (const auto& [url, id] : checkers(a, "/svc/")) who.insert(id);
          return who == std::set<std::string>{"A", "B"};
        },
        10s, 100ms));
    // B holds leases; kill it without a chance to give them up.
    std::string heldByB;
    for (const auto& [url, id] : checkers(a, "/svc/"))
      if (id == "B") heldByB = url;
    const auto killed = std::chrono::steady_clock::now();
    c.sidecarNamed("B").process().kill9();
    const bool takenOver = waitUntil(
        [&] {
          for (const auto& [url, id] : checkers(a, "/svc/"))
            if (id != "A") return false;
          return true;
        },
        10s, 50ms);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed);
    std::cerr << "\n[several] takeover after kill -9: " << took.count()
              << " ms (lease timeout 2000 ms, interval 300 ms)" << std::endl;
    CPPUNIT_ASSERT(takenOver);
    // lease timeout + one renewal (a quarter of it) + one interval, and room for a loaded host.
    CPPUNIT_ASSERT(took < 2000ms + 500ms + 300ms + 1500ms);
    // A target B used to check dies now: A marks it down.
    const auto name = "e" + std::to_string(1 + std::find(targets.begin(), targets.end(), heldByB) -
                                           targets.begin());
    c.echoProcess(name).kill9();
    CPPUNIT_ASSERT(waitUntil([&] { return a.listed("/svc/", heldByB) == "false"; }, 5s));
  }

  void testDatabaseRestartUnderLoad() {
    Cluster c(server());
    auto& a = c.sidecar("A");
    const std::vector<int> proxies{c.proxy(), c.proxy(), c.proxy()};
    const auto e1 = c.echo("e1");
    const auto r = a.request("POST", "/endpoints/routes", routeBody("/svc/", {e1}, "500ms"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    for (int port : proxies)
      CPPUNIT_ASSERT(waitUntil([&] { return http(port, "GET", "/svc/").status == 200; }, 5s));

    std::atomic<bool> done{false};
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::string firstFailure;
    std::thread load([&] {
      for (std::size_t i = 0; !done; ++i) {
        const auto res = http(proxies[i % proxies.size()], "GET", "/svc/load");
        if (res.status == 200) {
          ++ok;
        } else if (failed++ == 0) {
          firstFailure = std::to_string(res.status) + " " + res.body + res.error;
        }
      }
    });
    c.server().stop();
    HttpResult during;
    const bool unavailable = waitUntil(
        [&] {
          during = a.request("GET", "/endpoints/routes");
          return during.status == 503;
        },
        5s);
    const int servedBefore = ok.load();
    CPPUNIT_ASSERT(waitUntil([&] { return ok.load() > servedBefore + 20; }, 5s));  // still serving
    c.server().start();
    CPPUNIT_ASSERT(
        waitUntil([&] { return a.request("GET", "/endpoints/routes").status == 200; }, 10s));
    // Changes flow again without a restart of anything.
    const auto e2 = c.echo("e2");
    const auto added = a.request("POST", "/endpoints/add", targetsBody("/svc/", {e2}));
    done = true;
    load.join();
    CPPUNIT_ASSERT_MESSAGE(during.body, unavailable);
    CPPUNIT_ASSERT_MESSAGE(during.body, parseObject(during)->getValue<std::string>("error").rfind(
                                            "store unavailable: ", 0) == 0);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(added.body, 200, added.status);
    for (int port : proxies)
      CPPUNIT_ASSERT(waitUntil([&] { return backends(port, "/svc/x", 6).count("e2") == 1; }, 10s));
    std::cerr << "\n[several] database restart: " << ok.load() << " requests answered, "
              << failed.load() << " failed" << std::endl;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(firstFailure, 0, failed.load());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SeveralProxiesTest);
