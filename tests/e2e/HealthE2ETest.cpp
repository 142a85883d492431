#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "e2e/SidecarHarness.h"
#include "support/HealthTestBackend.h"
#include "support/TestSupport.h"
#include "support/TlsTestSupport.h"

using namespace std::chrono_literals;
using portico::test::ChildProcess;
using portico::test::HealthTestBackend;
using portico::test::holdsFor;
using portico::test::http;
using portico::test::localUrl;
using portico::test::Sidecar;
using portico::test::sqlite;
using portico::test::TempDir;
using portico::test::TestCertificates;
using portico::test::waitUntil;
using Clock = std::chrono::steady_clock;

namespace {

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// A started sidecar with health defaults from `defines` ("key=value"); asserts it serves.
std::unique_ptr<Sidecar> startSidecar(const TempDir& dir, const std::vector<std::string>& defines,
                                      const std::string& logName = "sidecar.log") {
  std::vector<std::string> args;
  for (const auto& d : defines) args.push_back("--define=" + d);
  auto sidecar = std::make_unique<Sidecar>(dir, args, 0, logName);
  CPPUNIT_ASSERT_MESSAGE(sidecar->process().log(), sidecar->ready());
  return sidecar;
}

/// CPU seconds `process` used so far (utime + stime from /proc).
double cpuSeconds(ChildProcess& process) {
  std::ifstream in("/proc/" + std::to_string(process.pid()) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

const std::vector<std::string> kFast{"health.interval=200ms", "health.timeout=200ms"};

}  // namespace

/// The real portico-sidecar probing real loopback backends: what the API and the store show.
class HealthE2ETest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthE2ETest);
  CPPUNIT_TEST(testPortStopsListening);
  CPPUNIT_TEST(testDetectionTimeAtOneSecond);
  CPPUNIT_TEST(testHttpCheckFlipsOn500);
  CPPUNIT_TEST(testRemovedTargetIsNotProbed);
  CPPUNIT_TEST(testRestartShowsStoredVerdicts);
  CPPUNIT_TEST(testThousandTargetsUnderOneCore);
  CPPUNIT_TEST(testHttpsTargets);
  CPPUNIT_TEST(testHttpProbesReuseOneConnection);
  CPPUNIT_TEST(testKeepAliveMaxZeroConnectsEachTime);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPortStopsListening() {
    TempDir dir;
    auto started = startSidecar(dir, kFast);
    Sidecar& sidecar = *started;
    HealthTestBackend backend;
    const auto url = localUrl(backend.port());
    sidecar.createRoute("/svc/", {url});
    CPPUNIT_ASSERT(waitUntil([&] { return !sidecar.stored(url, "last_checked_at").empty(); }, 3s));
    CPPUNIT_ASSERT_EQUAL(std::string("true"), sidecar.listed("/svc/", url));

    // Detection bound: one interval until the next probe, plus its timeout, plus a margin for
    // a loaded machine. Measured over a few cycles.
    const auto bound = 200ms + 200ms + 600ms;
    std::vector<long long> down, up;
    for (int cycle = 0; cycle < 5; ++cycle) {
      backend.close();
      auto t = Clock::now();
      CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "0"; }, bound, 5ms));
      down.push_back(msSince(t));
      CPPUNIT_ASSERT_EQUAL(std::string("false"), sidecar.listed("/svc/", url));
      CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"),
                           sidecar.stored(url, "last_error"));
      backend.reopen();
      t = Clock::now();
      CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "1"; }, bound, 5ms));
      up.push_back(msSince(t));
      CPPUNIT_ASSERT_EQUAL(std::string("true"), sidecar.listed("/svc/", url));
    }
    report("interval 200ms timeout 200ms tcp", down, up);
    CPPUNIT_ASSERT(sidecar.process().log().find("health: route /svc/ target " + url +
                                                " is now unhealthy: connect: Connection refused") !=
                   std::string::npos);
  }

  void testDetectionTimeAtOneSecond() {
    TempDir dir;
    auto started = startSidecar(dir, {"health.interval=1s", "health.timeout=1s"});
    Sidecar& sidecar = *started;
    HealthTestBackend backend;
    const auto url = localUrl(backend.port());
    sidecar.createRoute("/svc/", {url});
    CPPUNIT_ASSERT(waitUntil([&] { return !sidecar.stored(url, "last_checked_at").empty(); }, 3s));
    std::vector<long long> down, up;
    for (int cycle = 0; cycle < 3; ++cycle) {
      backend.close();
      auto t = Clock::now();
      CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "0"; }, 1s + 1s + 1s, 5ms));
      down.push_back(msSince(t));
      backend.reopen();
      t = Clock::now();
      CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "1"; }, 3s, 5ms));
      up.push_back(msSince(t));
    }
    report("interval 1s timeout 1s tcp", down, up);
  }

  void testHttpCheckFlipsOn500() {
    TempDir dir;
    auto started = startSidecar(dir, kFast);
    Sidecar& sidecar = *started;
    HealthTestBackend backend;
    const auto url = localUrl(backend.port(), "/base");
    sidecar.createRoute(
        "/web/", {url},
        R"({"type":"http","path":"/healthz","interval":"200ms","timeout":"200ms","fall":2})");
    CPPUNIT_ASSERT(waitUntil([&] { return backend.requests() >= 1; }, 3s));
    CPPUNIT_ASSERT_EQUAL(std::string("/base/healthz"), backend.lastPath());
    CPPUNIT_ASSERT_EQUAL(std::string("true"), sidecar.listed("/web/", url));

    backend.setStatus(500);
    auto t = Clock::now();
    const int before = backend.requests();
    // fall = 2: two intervals plus timeout plus margin.
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.listed("/web/", url) == "false"; }, 1500ms, 5ms));
    const auto took = msSince(t);
    CPPUNIT_ASSERT(backend.requests() >= before + 2);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sidecar.stored(url));
    CPPUNIT_ASSERT_EQUAL(std::string("http: status 500"), sidecar.stored(url, "last_error"));
    auto all = sidecar.list("/web/");
    CPPUNIT_ASSERT_EQUAL(std::string("http: status 500"),
                         all.at(url)->getValue<std::string>("lastError"));

    backend.setStatus(200);
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.listed("/web/", url) == "true"; }, 1s, 5ms));
    std::cerr << "\n[detect] http 500, interval 200ms fall 2: unhealthy after " << took << "ms"
              << std::endl;

    // A slow health endpoint is a timeout.
    backend.setDelay(1s);
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "0"; }, 2s, 5ms));
    CPPUNIT_ASSERT_EQUAL(std::string("timeout after 200ms"), sidecar.stored(url, "last_error"));
  }

  void testRemovedTargetIsNotProbed() {
    TempDir dir;
    auto started = startSidecar(dir, kFast);
    Sidecar& sidecar = *started;
    HealthTestBackend removed, kept;
    sidecar.createRoute("/r/", {localUrl(removed.port()), localUrl(kept.port())},
                        R"({"type":"http","path":"/h","interval":"50ms","timeout":"200ms"})");
    CPPUNIT_ASSERT(waitUntil([&] { return removed.requests() >= 2 && kept.requests() >= 2; }, 3s));
    auto r = http(sidecar.port(), "POST", "/endpoints/remove",
                  R"({"prefixPath":"/r/","targets":[")" + localUrl(removed.port()) + R"("]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    // Once the kept target was probed twice more, a probe in flight at removal has landed.
    int k = kept.requests();
    CPPUNIT_ASSERT(waitUntil([&] { return kept.requests() >= k + 2; }, 3s));
    const int gone = removed.requests();
    k = kept.requests();
    CPPUNIT_ASSERT(waitUntil([&] { return kept.requests() >= k + 10; }, 5s));
    CPPUNIT_ASSERT_EQUAL(gone, removed.requests());
  }

  void testRestartShowsStoredVerdicts() {
    TempDir dir;
    auto up = std::make_unique<HealthTestBackend>();
    const int downPort = portico::test::freePort();
    const auto upUrl = localUrl(up->port());
    const auto downUrl = localUrl(downPort);
    // A long interval: after the restart no probe runs during the test (see below).
    const std::vector<std::string> slow{"health.interval=1m", "health.timeout=1s"};
    {
      auto started = startSidecar(dir, slow, "sidecar-1.log");
      Sidecar& sidecar = *started;
      sidecar.createRoute("/app/", {upUrl, downUrl});
      // New targets are probed at once, not one interval later.
      CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(downUrl) == "0"; }, 3s));
      CPPUNIT_ASSERT(
          waitUntil([&] { return !sidecar.stored(upUrl, "last_checked_at").empty(); }, 3s));
      CPPUNIT_ASSERT_EQUAL(std::string("true"), sidecar.listed("/app/", upUrl));
      sidecar.process().kill9();
    }
    // Reality flips while the sidecar is down: a probe now would give the opposite verdicts.
    up.reset();
    HealthTestBackend nowListening(downPort);

    auto started = startSidecar(dir, slow, "sidecar-2.log");
    Sidecar& restarted = *started;
    // Existing targets resume their stored verdicts and are probed spread over their interval
    // (ids 1 and 2 fall 37 s and 14 s into a 1 min interval), so the list right after the
    // restart shows exactly what was stored before the kill.
    CPPUNIT_ASSERT_EQUAL(std::string("true"), restarted.listed("/app/", upUrl));
    CPPUNIT_ASSERT_EQUAL(std::string("false"), restarted.listed("/app/", downUrl));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), restarted.stored(upUrl));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), restarted.stored(downUrl));
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), sqlite(restarted.db(), "PRAGMA integrity_check"));
    // Still so a moment later: the restart neither reset verdicts nor probed everything at once.
    CPPUNIT_ASSERT(holdsFor([&] { return restarted.stored(downUrl) == "0"; }, 1s));
    CPPUNIT_ASSERT_EQUAL(std::string("true"), restarted.listed("/app/", upUrl));

    // A target added after the restart is probed at once.
    HealthTestBackend fresh;
    auto r = http(restarted.port(), "POST", "/endpoints/add",
                  R"({"prefixPath":"/app/","targets":[")" + localUrl(fresh.port()) + R"("]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return !restarted.stored(localUrl(fresh.port()), "last_checked_at").empty(); }, 3s));
  }

  void testThousandTargetsUnderOneCore() {
    TempDir dir;
    // Declared first, destroyed last: the sidecar stops probing before they close.
    std::vector<std::unique_ptr<HealthTestBackend>> backends;
    for (int i = 0; i < 4; ++i) backends.push_back(std::make_unique<HealthTestBackend>());
    auto started = startSidecar(dir, {"health.interval=1s", "health.timeout=1s"});
    Sidecar& sidecar = *started;
    const int refusing = portico::test::freePort();
    for (int r = 0; r < 50; ++r) {
      std::vector<std::string> targets;
      for (int t = 0; t < 20; ++t) {
        const int port = t % 5 == 4 ? refusing : backends[t % 4]->port();
        targets.push_back(localUrl(port, "/r" + std::to_string(r) + "t" + std::to_string(t)));
      }
      sidecar.createRoute("/r" + std::to_string(r) + "/", targets);
    }
    const char* recent =
        "SELECT count(*) FROM targets WHERE last_checked_at >= "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2.5 seconds')";
    CPPUNIT_ASSERT(waitUntil([&] { return sqlite(sidecar.db(), recent) == "1000"; }, 5s));
    const double cpuBefore = cpuSeconds(sidecar.process());
    const auto t = Clock::now();
    // Over five intervals every target keeps being checked: the flush of check times lags by
    // at most one second, so each was probed within the last 2.5 s whenever we look.
    std::string seen;
    const bool kept =
        holdsFor([&] { return (seen = sqlite(sidecar.db(), recent)) == "1000"; }, 5s, 250ms);
    CPPUNIT_ASSERT_EQUAL_MESSAGE("targets checked in the last 2.5 s", std::string("1000"), seen);
    CPPUNIT_ASSERT(kept);
    const double cpu = cpuSeconds(sidecar.process()) - cpuBefore;
    const double seconds = static_cast<double>(msSince(t)) / 1000.0;
    std::cerr << "\n[scale] sidecar, 1000 targets / 50 routes at 1s: CPU " << cpu << "s over "
              << seconds << "s = " << 100.0 * cpu / seconds << "% of one core" << std::endl;
    CPPUNIT_ASSERT(cpu / seconds < 0.5);
    CPPUNIT_ASSERT_EQUAL(std::string("200"),
                         sqlite(sidecar.db(), "SELECT count(*) FROM targets WHERE healthy = 0"));
  }

  /// https targets: an http check speaks TLS (SNI and the name checked against the target's
  /// host, the CA from upstream_tls.ca_file); a certificate for another name fails the check
  /// with the reason; a tcp check of the same target only connects.
  /// An http check keeps its connection between probes (as Envoy's health checker does): a
  /// keep-alive backend sees one connection carry ten probes. When the backend goes away, the
  /// kept connection goes with it and the next probe fails; when it listens again, a new one.
  void testHttpProbesReuseOneConnection() {
    TempDir dir;
    auto started = startSidecar(dir, {"health.interval=100ms", "health.timeout=1s"});
    Sidecar& sidecar = *started;
    HealthTestBackend backend(0, true);
    const auto url = localUrl(backend.port());
    sidecar.createRoute("/ka/", {url}, R"({"type":"http","path":"/healthz"})");
    CPPUNIT_ASSERT(waitUntil([&] { return backend.requests() >= 10; }, 5s));
    CPPUNIT_ASSERT_EQUAL(1, backend.connections());
    CPPUNIT_ASSERT_EQUAL(std::string("true"), sidecar.listed("/ka/", url));

    backend.close();  // the kept connection is closed by the backend's end
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "0"; }, 3s, 5ms));
    CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"),
                         sidecar.stored(url, "last_error"));
    backend.reopen();
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "1"; }, 3s, 5ms));
    const int requests = backend.requests();
    CPPUNIT_ASSERT(waitUntil([&] { return backend.requests() >= requests + 10; }, 5s));
    CPPUNIT_ASSERT_EQUAL(1, backend.connections());  // since reopen(): one again
  }

  /// health.keepalive_max = 0: every probe opens (and closes) its own connection, as before.
  void testKeepAliveMaxZeroConnectsEachTime() {
    TempDir dir;
    auto started =
        startSidecar(dir, {"health.interval=100ms", "health.timeout=1s", "health.keepalive_max=0"});
    Sidecar& sidecar = *started;
    HealthTestBackend backend(0, true);
    sidecar.createRoute("/ka/", {localUrl(backend.port())}, R"({"type":"http"})");
    CPPUNIT_ASSERT(waitUntil([&] { return backend.requests() >= 10; }, 5s));
    CPPUNIT_ASSERT(backend.connections() >= 10);
  }

  void testHttpsTargets() {
    TempDir dir;
    TestCertificates certs(dir.path());
    certs.issue("good", {"localhost"});
    certs.issue("wrong", {"elsewhere.test"});
    auto echo = [&](const std::string& cert) {
      const int port = portico::test::freePort();
      auto process = std::make_unique<ChildProcess>(
          portico::test::binary("portico-echo"),
          std::vector<std::string>{"--port=" + std::to_string(port), "--name=" + cert,
                                   "--tls-cert=" + certs.certificate(cert),
                                   "--tls-key=" + certs.key(cert)},
          dir.file("echo-" + cert + ".log"), dir.path());
      CPPUNIT_ASSERT_MESSAGE(process->log(), portico::test::waitForPort(port));
      return std::make_pair(port, std::move(process));
    };
    auto good = echo("good");
    auto wrong = echo("wrong");
    auto started = startSidecar(
        dir, {"health.interval=200ms", "health.timeout=1s", "upstream_tls.ca_file=" + certs.ca()});
    Sidecar& sidecar = *started;
    const auto goodUrl = "https://localhost:" + std::to_string(good.first);
    const auto wrongUrl = "https://localhost:" + std::to_string(wrong.first);
    sidecar.createRoute("/tls/", {goodUrl, wrongUrl}, R"({"type":"http","path":"/healthz"})");
    sidecar.createRoute("/tcp/", {wrongUrl}, R"({"type":"tcp"})");

    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.listed("/tls/", wrongUrl) == "false"; }, 5s));
    // The same URL is a target of both routes: one row each.
    const auto onRoute = [&](const std::string& prefix, const std::string& url,
                             const std::string& column) {
      return sqlite(sidecar.db(), "SELECT t." + column +
                                      " FROM targets t JOIN routes r ON r.id = t.route_id "
                                      "WHERE r.prefix = '" +
                                      prefix + "' AND t.url = '" + url + "'");
    };
    CPPUNIT_ASSERT_EQUAL(std::string("certificate verification failed: hostname mismatch"),
                         onRoute("/tls/", wrongUrl, "last_error"));
    // Logged just after the commit.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return sidecar.process().log().find(
                     "target " + wrongUrl +
                     " is now unhealthy: certificate verification failed: hostname mismatch") !=
                 std::string::npos;
        },
        2s));
    // The good one was checked and stays healthy: the handshake, the GET and its 200 went
    // through.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return sqlite(sidecar.db(), "SELECT count(*) FROM targets WHERE url = '" + goodUrl +
                                          "' AND last_checked_at IS NOT NULL") == "1";
        },
        5s));
    CPPUNIT_ASSERT(holdsFor([&] { return sidecar.listed("/tls/", goodUrl) == "true"; }, 1s));
    // A tcp check does not care about the certificate.
    CPPUNIT_ASSERT(
        waitUntil([&] { return !onRoute("/tcp/", wrongUrl, "last_checked_at").empty(); }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), onRoute("/tcp/", wrongUrl, "healthy"));

    // The good target going away is seen as it is for plain http.
    good.second->kill9();
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.listed("/tls/", goodUrl) == "false"; }, 3s));
    // Refused, or cut in the middle of a probe when the kill came during one (handshake or
    // request): whichever, the reason is recorded.
    const auto error = sidecar.stored(goodUrl, "last_error");
    CPPUNIT_ASSERT_MESSAGE(error, error == "connect: Connection refused" ||
                                      error.rfind("TLS handshake failed: ", 0) == 0 ||
                                      error.rfind("http: ", 0) == 0);
  }

 private:
  static void report(const std::string& what, const std::vector<long long>& down,
                     const std::vector<long long>& up) {
    auto line = [](const std::vector<long long>& v) {
      std::string s;
      for (auto x : v) s += std::to_string(x) + "ms ";
      return s;
    };
    std::cerr << "\n[detect] " << what << ": port closed -> store unhealthy: " << line(down)
              << "| listening again -> healthy: " << line(up) << std::endl;
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthE2ETest);
