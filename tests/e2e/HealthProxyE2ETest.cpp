#include <cppunit/extensions/HelperMacros.h>

#include <memory>

#include "e2e/SidecarHarness.h"
#include "support/HealthTestBackend.h"
#include "support/TestSupport.h"

using namespace std::chrono_literals;
using portico::test::ChildProcess;
using portico::test::HealthTestBackend;
using portico::test::http;
using portico::test::KeepAliveClient;
using portico::test::localUrl;
using portico::test::Sidecar;
using portico::test::TempDir;
using portico::test::waitForPort;
using portico::test::waitUntil;

namespace {

/// http health checks every 200 ms, so verdicts change quickly.
const std::string kHttpCheck =
    R"({"type":"http","path":"/health","interval":"200ms","timeout":"200ms"})";

/// portico-echo named `name` on a free port.
struct Echo {
  explicit Echo(const TempDir& dir, const std::string& name) : port(portico::test::freePort()) {
    process = std::make_unique<ChildProcess>(
        portico::test::binary("portico-echo"),
        std::vector<std::string>{"--port=" + std::to_string(port), "--name=" + name},
        dir.file(name + ".log"));
    CPPUNIT_ASSERT(waitForPort(port, 10s));
  }
  int port;
  std::unique_ptr<ChildProcess> process;
};

std::unique_ptr<Sidecar> startSidecar(const TempDir& dir) {
  auto sidecar = std::make_unique<Sidecar>(dir);
  CPPUNIT_ASSERT_MESSAGE(sidecar->process().log(), sidecar->ready());
  return sidecar;
}

std::unique_ptr<ChildProcess> startProxy(const TempDir& dir, const std::string& db, int port) {
  auto p = std::make_unique<ChildProcess>(
      portico::test::binary("portico-proxy"),
      std::vector<std::string>{"--define=store.path=" + db, "--define=proxy.host=127.0.0.1",
                               "--define=proxy.port=" + std::to_string(port),
                               "--define=proxy.access_log=off", "--define=proxy.status_port=off"},
      dir.file("proxy.log"), dir.path());
  CPPUNIT_ASSERT_MESSAGE(p->log(), waitForPort(port, 10s));
  return p;
}

}  // namespace

/// Health verdicts as the data plane honours them: unhealthy targets get no traffic.
class HealthProxyE2ETest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthProxyE2ETest);
  CPPUNIT_TEST(testColdStartAvoidsUnhealthyTarget);
  CPPUNIT_TEST(testLiveTransitionAvoided);
  CPPUNIT_TEST(testAllTargetsDownIs503);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testColdStartAvoidsUnhealthyTarget() {
    TempDir dir;
    const auto db = dir.file("p.db");  // where Sidecar keeps its store
    Echo good(dir, "good");
    HealthTestBackend bad;  // accepts and answers, but its health path (and all else) says 500
    bad.setStatus(500);
    auto sidecar = startSidecar(dir);
    sidecar->createRoute("/app/", {localUrl(good.port), localUrl(bad.port())}, kHttpCheck);
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar->stored(localUrl(bad.port())) == "0"; }, 3s));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), sidecar->stored(localUrl(good.port)));
    sidecar->process().kill9();  // no more probes reach `bad` from here on
    const int badBefore = bad.requests();

    const int proxyPort = portico::test::freePort();
    auto proxy = startProxy(dir, db, proxyPort);
    for (int i = 0; i < 100; ++i) {
      auto r = http(proxyPort, "GET", "/app/x?i=" + std::to_string(i));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("good"), r.header("x-backend"));
    }
    CPPUNIT_ASSERT_EQUAL(badBefore, bad.requests());
  }

  void testLiveTransitionAvoided() {
    TempDir dir;
    const auto db = dir.file("p.db");  // where Sidecar keeps its store
    Echo good(dir, "good");
    HealthTestBackend flaky;
    auto sidecar = startSidecar(dir);
    sidecar->createRoute("/app/", {localUrl(good.port), localUrl(flaky.port())}, kHttpCheck);
    const int proxyPort = portico::test::freePort();
    auto proxy = startProxy(dir, db, proxyPort);
    // Both healthy: round robin reaches the flaky one too.
    CPPUNIT_ASSERT(waitUntil(
        [&] { return http(proxyPort, "GET", "/app/x").header("x-backend").empty(); }, 3s));

    flaky.setStatus(500);
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar->stored(localUrl(flaky.port())) == "0"; }, 2s));
    // The proxy applies the verdict within its reload interval (100 ms): from then on round
    // robin over the healthy targets sends two requests in a row to `good` (on one connection:
    // each proxy thread has its own rotation).
    KeepAliveClient client(proxyPort);
    const auto twoToGood = [&] {
      return client.get("/app/y").header("x-backend") == "good" &&
             client.get("/app/y").header("x-backend") == "good";
    };
    CPPUNIT_ASSERT(waitUntil(twoToGood, 1s));
    for (int i = 0; i < 100; ++i) {
      auto r = http(proxyPort, "GET", "/app/y");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("good"), r.header("x-backend"));
    }
  }

  void testAllTargetsDownIs503() {
    TempDir dir;
    const auto db = dir.file("p.db");  // where Sidecar keeps its store
    HealthTestBackend down;
    down.setStatus(500);
    auto sidecar = startSidecar(dir);
    sidecar->createRoute("/only/", {localUrl(down.port())}, kHttpCheck);
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar->stored(localUrl(down.port())) == "0"; }, 3s));
    sidecar->process().kill9();  // no more probes reach `down` from here on
    const int proxyPort = portico::test::freePort();
    auto proxy = startProxy(dir, db, proxyPort);
    const int before = down.requests();
    auto r = http(proxyPort, "GET", "/only/x");
    CPPUNIT_ASSERT_EQUAL(503, r.status);
    CPPUNIT_ASSERT(r.header("content-type").find("application/json") == 0);
    CPPUNIT_ASSERT(r.body.find("\"error\"") != std::string::npos);
    // Answered by the proxy, not by sending the request to the unhealthy target.
    CPPUNIT_ASSERT_EQUAL(before, down.requests());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthProxyE2ETest);
