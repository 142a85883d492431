// End-to-end tests of what an operator runs Portico with: the proxy's status listener
// (/metrics, /healthz, /readyz) and the sidecar's /metrics checked by promtool, traffic counted
// by route and target, --check on both programs, access-log formats with X-Request-Id, and the
// operational log's level and JSON format.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "e2e/ProxyTestHarness.h"
#include "e2e/SidecarHarness.h"
#include "store/sqlite/Sqlite.h"

using namespace portico::test;
using namespace std::chrono_literals;

namespace {

/// `promtool check metrics` on `text`: its exit status and what it printed.
std::pair<int, std::string> promtool(const TempDir& dir, const std::string& text) {
  const std::string file = dir.file("scrape.txt");
  writeFile(file, text);
  FILE* p = ::popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
  if (!p) return {-1, "cannot run promtool"};
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p)) out.append(buffer, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

/// Runs a program to completion (bounded); returns its exit status and output.
std::pair<int, std::string> runToEnd(const TempDir& dir, const std::string& program,
                                     const std::vector<std::string>& args,
                                     const std::string& logName) {
  ChildProcess p(binary(program), args, dir.file(logName), dir.path());
  const auto status = p.wait(20s);
  if (!status) CPPUNIT_FAIL(program + " --check did not end: " + p.log());
  return {*status, p.log()};
}

std::string listing(const std::string& dir) {
  std::string names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() != ".log")
      names += e.path().filename().string() + ":" + std::to_string(e.file_size()) + " ";
  return names;
}

/// How many requests /metrics counted on `route`, every target and code together.
double countedOn(const std::string& scrape, const std::string& route) {
  const std::string head = "portico_requests_total{route=\"" + route + "\"";
  double sum = 0;
  for (const auto& line : lines(scrape))
    if (line.compare(0, head.size(), head) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
  return sum;
}

/// A scrape of the status port `status` taken once every route of `routes` has counted a
/// request: awaitStatusChange's last request was answered there, and the proxy counts a request
/// only after its answer is out, so a scrape taken at once may miss it.
std::string scrapeAfterCounted(int status, const std::vector<std::string>& routes) {
  std::string scrape;
  const bool counted = waitUntil(
      [&] {
        scrape = http(status, "GET", "/metrics").body;
        for (const auto& r : routes)
          if (countedOn(scrape, r) < 1) return false;
        return true;
      },
      5s);
  if (!counted) CPPUNIT_FAIL("the requests awaitStatusChange sent were never counted: " + scrape);
  return scrape;
}

}  // namespace

class OperationsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(OperationsTest);
  CPPUNIT_TEST(testProxyMetricsCountTrafficByRouteAndTarget);
  CPPUNIT_TEST(testUpstreamFailuresRetriesAndCooldown);
  CPPUNIT_TEST(testReadinessFollowsTheStore);
  CPPUNIT_TEST(testStatusListenerOff);
  CPPUNIT_TEST(testStatusPortInUse);
  CPPUNIT_TEST(testSidecarMetricsBehindToken);
  CPPUNIT_TEST(testSidecarHealthMetricsNameTheHost);
  CPPUNIT_TEST(testCheckValidatesWithoutBindingOrWriting);
  CPPUNIT_TEST(testAccessLogJsonAndRequestId);
  CPPUNIT_TEST(testAccessLogCombined);
  CPPUNIT_TEST(testLogLevelAndJsonFormat);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testProxyMetricsCountTrafficByRouteAndTarget() {
    Stack s;
    s.echo("e1");
    s.echo("e2");
    const int proxy = s.proxy({"proxy.access_log=off"});
    const int status = s.statusPort(proxy);
    s.route("/proxy/", {s.url("e1"), s.url("e2")});
    s.route("/other/", {s.url("e1")});
    s.awaitStatusChange(proxy, "/proxy/", 404);
    s.awaitStatusChange(proxy, "/other/", 404);
    // Counts from here on (awaitStatusChange sent requests of its own).
    const std::string before = scrapeAfterCounted(status, {"/proxy/", "/other/"});
    const auto delta = [&](const std::string& m, const std::string& series) {
      const double was = metric(before, series);
      return metric(m, series) - (std::isnan(was) ? 0 : was);
    };
    for (int i = 0; i < 6; ++i) CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/a").status);
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "POST", "/other/b", "body").status);
    CPPUNIT_ASSERT_EQUAL(404, http(proxy, "GET", "/nowhere").status);
    // The data-plane port serves no metrics: /metrics is just a path without a route.
    const auto onData = http(proxy, "GET", "/metrics");
    CPPUNIT_ASSERT_EQUAL(404, onData.status);
    CPPUNIT_ASSERT_EQUAL(std::string("no route for /metrics"), field(onData.body, "error"));

    RawClient open(proxy);  // one keep-alive client connection held open
    open.send("GET /proxy/held HTTP/1.1\r\nHost: x\r\n\r\n");
    CPPUNIT_ASSERT(open.readUntil("\"bodyFnv1a\""));

    const auto scrape = http(status, "GET", "/metrics");
    CPPUNIT_ASSERT_EQUAL(200, scrape.status);
    CPPUNIT_ASSERT_EQUAL(std::string("text/plain; version=0.0.4; charset=utf-8"),
                         scrape.header("content-type"));
    const std::string& m = scrape.body;
    const std::string e1 = s.url("e1");
    const std::string e2 = s.url("e2");
    // Round robin over two targets: 7 requests on /proxy/ (the held one included), split 4/3.
    const double a =
        delta(m, "portico_requests_total{route=\"/proxy/\",target=\"" + e1 + "\",code=\"200\"}");
    const double b =
        delta(m, "portico_requests_total{route=\"/proxy/\",target=\"" + e2 + "\",code=\"200\"}");
    CPPUNIT_ASSERT_MESSAGE(m, a + b == 7 && std::fabs(a - b) == 1);
    CPPUNIT_ASSERT_EQUAL(1.0, delta(m, "portico_requests_total{route=\"/other/\",target=\"" + e1 +
                                           "\",code=\"200\"}"));
    CPPUNIT_ASSERT_EQUAL(
        2.0, delta(m, "portico_requests_total{route=\"none\",target=\"none\",code=\"404\"}"));
    CPPUNIT_ASSERT_EQUAL(7.0,
                         delta(m, "portico_request_duration_seconds_count{route=\"/proxy/\"}"));
    CPPUNIT_ASSERT_EQUAL(
        7.0, delta(m, "portico_request_duration_seconds_bucket{route=\"/proxy/\",le=\"+Inf\"}"));
    CPPUNIT_ASSERT(metric(m, "portico_request_duration_seconds_sum{route=\"/proxy/\"}") > 0);
    CPPUNIT_ASSERT(metric(m, "portico_client_connections") >= 1);
    CPPUNIT_ASSERT_EQUAL(
        1.0, metric(m, "portico_target_healthy{route=\"/proxy/\",target=\"" + e1 + "\"}"));
    CPPUNIT_ASSERT_EQUAL(
        0.0, metric(m, "portico_target_in_cooldown{route=\"/proxy/\",target=\"" + e1 + "\"}"));
    CPPUNIT_ASSERT(
        metric(m, "portico_upstream_connections{target=\"" + e1 + "\",state=\"idle\"}") >= 1);
    CPPUNIT_ASSERT_EQUAL(
        0.0, metric(m, "portico_upstream_connections{target=\"" + e1 + "\",state=\"busy\"}"));
    CPPUNIT_ASSERT(metric(m, "portico_route_table_reloads_total") >= 1);
    CPPUNIT_ASSERT(metric(m, "portico_route_table_last_reload_timestamp_seconds") > 1.7e9);
    CPPUNIT_ASSERT_EQUAL(0.0, metric(m, "portico_store_read_errors_total"));
    CPPUNIT_ASSERT(metric(m, "process_resident_memory_bytes") > 1e6);
    CPPUNIT_ASSERT(metric(m, "process_open_fds") > 3);
    CPPUNIT_ASSERT(metric(m, "process_start_time_seconds") > 1.7e9);
    CPPUNIT_ASSERT(metric(m, "process_cpu_seconds_total") >= 0);
    // The revision the proxy reports is the store's (once it has caught up).
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return metric(http(status, "GET", "/metrics").body, "portico_route_table_revision") ==
                 std::stod(sqlite(s.store(), "SELECT value FROM revision"));
        },
        5s));

    const auto [rc, out] = promtool(s.dir(), m);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, rc);

    const auto health = http(status, "GET", "/healthz");
    CPPUNIT_ASSERT_EQUAL(200, health.status);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), field(health.body, "status"));
    const auto ready = http(status, "GET", "/readyz");
    CPPUNIT_ASSERT_EQUAL(200, ready.status);
    CPPUNIT_ASSERT_EQUAL(std::string("ready"), field(ready.body, "status"));
    CPPUNIT_ASSERT_EQUAL(404, http(status, "GET", "/proxy/a").status);
    const auto post = http(status, "POST", "/metrics", "x");
    CPPUNIT_ASSERT_EQUAL(405, post.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD"), post.header("allow"));
  }

  void testUpstreamFailuresRetriesAndCooldown() {
    Stack s;
    s.echo("e1");
    const int proxy = s.proxy({"proxy.access_log=off"});
    const int status = s.statusPort(proxy);
    const std::string dead = "http://127.0.0.1:" + std::to_string(freePort());
    // fall 1000 at 1h: the health checker will not take the dead target out during the test,
    // so the proxy meets the refused connections itself.
    const std::string lazyChecks = ",\"healthCheck\":{\"interval\":\"1h\",\"fall\":1000}";
    s.route("/dead/", {dead}, "round_robin", lazyChecks);
    s.routeServed(proxy, "/mixed/", {dead, s.url("e1")}, "round_robin", lazyChecks);
    const std::string before = scrapeAfterCounted(status, {"/mixed/"});
    const std::string mixedOk =
        "portico_requests_total{route=\"/mixed/\",target=\"" + s.url("e1") + "\",code=\"200\"}";
    const double okBefore = std::isnan(metric(before, mixedOk)) ? 0 : metric(before, mixedOk);
    CPPUNIT_ASSERT_EQUAL(502, http(proxy, "GET", "/dead/x").status);
    for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/mixed/x").status);
    const std::string m = http(status, "GET", "/metrics").body;
    // No target accepted the request: it was answered without one.
    CPPUNIT_ASSERT_MESSAGE(
        m, metric(m, "portico_requests_total{route=\"/dead/\",target=\"none\",code=\"502\"}") >= 1);
    CPPUNIT_ASSERT(metric(m, "portico_upstream_connect_failures_total{route=\"/dead/\",target=\"" +
                                 dead + "\"}") >= 1);
    // /mixed/ meets the dead target at most once before its cooldown (2 s) and moves on.
    CPPUNIT_ASSERT(
        metric(m, "portico_upstream_retries_total{route=\"/mixed/\",reason=\"connect-failure\"}") >=
        1);
    CPPUNIT_ASSERT_EQUAL(4.0, metric(m, mixedOk) - okBefore);
    CPPUNIT_ASSERT_EQUAL(
        1.0, metric(m, "portico_target_in_cooldown{route=\"/mixed/\",target=\"" + dead + "\"}"));
    // No timeout: a target's series is made at its first count, so it is absent (never 1).
    const double timeouts =
        metric(m, "portico_upstream_timeouts_total{route=\"/mixed/\",target=\"" + dead + "\"}");
    CPPUNIT_ASSERT_MESSAGE(m, std::isnan(timeouts) || timeouts == 0.0);
    const auto [rc, out] = promtool(s.dir(), m);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, rc);
  }

  void testReadinessFollowsTheStore() {
    TempDir dir;
    const int port = freePort();
    const int status = freePort();
    // No store yet: the process is up (healthz) but has no route table (readyz 503).
    ChildProcess proxy(binary("portico-proxy"),
                       {"--define=store.path=" + dir.file("p.db"), "--define=proxy.host=127.0.0.1",
                        "--define=proxy.port=" + std::to_string(port),
                        "--define=proxy.status_port=" + std::to_string(status),
                        "--define=proxy.reload_interval=50ms"},
                       dir.file("proxy.log"), dir.path());
    CPPUNIT_ASSERT_MESSAGE(proxy.log(), waitForPort(status));
    CPPUNIT_ASSERT_EQUAL(200, http(status, "GET", "/healthz").status);
    const auto notReady = http(status, "GET", "/readyz");
    CPPUNIT_ASSERT_EQUAL(503, notReady.status);
    CPPUNIT_ASSERT_EQUAL(std::string("not ready"), field(notReady.body, "status"));
    CPPUNIT_ASSERT_EQUAL(
        -1.0, metric(http(status, "GET", "/metrics").body, "portico_route_table_revision"));
    Sidecar sidecar(dir);
    CPPUNIT_ASSERT_MESSAGE(sidecar.process().log(), sidecar.ready());
    CPPUNIT_ASSERT(waitUntil([&] { return http(status, "GET", "/readyz").status == 200; }, 10s));
  }

  void testStatusListenerOff() {
    Stack s;
    const int would = freePort();
    const int proxy = s.proxy({"proxy.status_port=off"});
    CPPUNIT_ASSERT(waitUntil(
        [&] { return s.lastProxy().log().find("status listener off") != std::string::npos; }, 5s));
    const int proxy2 =
        s.proxy({"proxy.status_host=off", "proxy.status_port=" + std::to_string(would)});
    CPPUNIT_ASSERT_EQUAL(0, http(would, "GET", "/metrics", "", {}, 1s).status);
    CPPUNIT_ASSERT_EQUAL(404, http(proxy, "GET", "/metrics").status);
    CPPUNIT_ASSERT_EQUAL(404, http(proxy2, "GET", "/metrics").status);
  }

  void testStatusPortInUse() {
    TempDir dir;
    ReachablePort taken;
    const int port = freePort();
    ChildProcess proxy(binary("portico-proxy"),
                       {"--define=store.path=" + dir.file("p.db"), "--define=proxy.host=127.0.0.1",
                        "--define=proxy.port=" + std::to_string(port),
                        "--define=proxy.status_port=" + std::to_string(taken.port())},
                       dir.file("proxy.log"), dir.path());
    const auto status = proxy.wait(10s);
    CPPUNIT_ASSERT_MESSAGE("the proxy kept running without its status port", status.has_value());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(proxy.log(), 69, *status);  // EX_UNAVAILABLE, not a crash
    CPPUNIT_ASSERT_MESSAGE(
        proxy.log(), proxy.log().find("cannot listen on proxy.status_host:proxy.status_port") !=
                         std::string::npos);
    // It gave up before taking the data-plane port.
    CPPUNIT_ASSERT(!waitForPort(port, 200ms));
  }

  /// Two routes with one prefix and one target, one of them for a host: the health series
  /// are told apart by the `host` label (left out for the any-host route), never duplicated.
  void testSidecarHealthMetricsNameTheHost() {
    TempDir dir;
    Sidecar sidecar(dir, {"--define=health.interval=100ms"});
    CPPUNIT_ASSERT_MESSAGE(sidecar.process().log(), sidecar.ready());
    const std::string down = localUrl(freePort());
    for (const std::string host : {"", "a.example"}) {
      const auto created =
          sidecar.request("POST", "/endpoints/routes",
                          "{\"host\":\"" + host + "\",\"prefixPath\":\"/svc/\",\"targets\":[\"" +
                              down + "\"],\"healthCheck\":{\"interval\":\"100ms\"}}");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 201, created.status);
    }
    const std::string any = "route=\"/svc/\",target=\"" + down + "\"";
    const std::string hosted = "route=\"/svc/\",host=\"a.example\",target=\"" + down + "\"";
    std::string m;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          m = sidecar.request("GET", "/metrics").body;
          return metric(m, "portico_health_transitions_total{" + hosted + ",to=\"unhealthy\"}") ==
                     1.0 &&
                 metric(m, "portico_health_transitions_total{" + any + ",to=\"unhealthy\"}") == 1.0;
        },
        10s));
    CPPUNIT_ASSERT_EQUAL(0.0, metric(m, "portico_target_healthy{" + hosted + "}"));
    CPPUNIT_ASSERT_EQUAL(0.0, metric(m, "portico_target_healthy{" + any + "}"));
    CPPUNIT_ASSERT(metric(m, "portico_health_checks_total{" + hosted + ",result=\"failure\"}") >=
                   1);
    CPPUNIT_ASSERT(sidecar.process().log().find("health: route a.example/svc/ target " + down) !=
                   std::string::npos);
  }

  void testSidecarMetricsBehindToken() {
    TempDir dir;
    ReachablePort up;
    Sidecar sidecar(dir, {"--define=admin.token=s3cret", "--define=health.interval=100ms"});
    CPPUNIT_ASSERT_MESSAGE(sidecar.process().log(), sidecar.ready());
    const std::map<std::string, std::string> auth{{"Authorization", "Bearer s3cret"}};
    const std::string down = localUrl(freePort());
    const auto created =
        sidecar.request("POST", "/endpoints/routes",
                        "{\"prefixPath\":\"/svc/\",\"targets\":[\"" + up.url() + "\",\"" + down +
                            "\"],\"healthCheck\":{\"interval\":\"100ms\"}}",
                        auth);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 201, created.status);
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(down) == "0"; }, 10s));

    const auto refused = sidecar.request("GET", "/metrics");
    CPPUNIT_ASSERT_EQUAL(401, refused.status);
    CPPUNIT_ASSERT(!tryField(refused.body, "error").empty());
    // The traffic endpoints and the status page have labels of their own.
    CPPUNIT_ASSERT_EQUAL(200,
                         sidecar
                             .request("PATCH", "/endpoints?prefixPath=/svc/&target=" + up.url(),
                                      "{\"weight\":300}", auth)
                             .status);
    CPPUNIT_ASSERT_EQUAL(200,
                         sidecar.request("GET", "/endpoints/changes?limit=5", "", auth).status);
    CPPUNIT_ASSERT_EQUAL(200, sidecar.request("GET", "/dashboard.js").status);

    std::string m;
    // Probes keep running: wait until both targets have at least two results counted.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          m = sidecar.request("GET", "/metrics", "", auth).body;
          return metric(m, "portico_health_checks_total{route=\"/svc/\",target=\"" + up.url() +
                               "\",result=\"success\"}") >= 2 &&
                 metric(m, "portico_health_checks_total{route=\"/svc/\",target=\"" + down +
                               "\",result=\"failure\"}") >= 2;
        },
        10s));
    const auto scrape = sidecar.request("GET", "/metrics", "", auth);
    CPPUNIT_ASSERT_EQUAL(200, scrape.status);
    CPPUNIT_ASSERT_EQUAL(std::string("text/plain; version=0.0.4; charset=utf-8"),
                         scrape.header("content-type"));
    m = scrape.body;
    CPPUNIT_ASSERT_EQUAL(
        1.0, metric(m, "portico_health_transitions_total{route=\"/svc/\",target=\"" + down +
                           "\",to=\"unhealthy\"}"));
    CPPUNIT_ASSERT_EQUAL(
        0.0, metric(m, "portico_target_healthy{route=\"/svc/\",target=\"" + down + "\"}"));
    CPPUNIT_ASSERT_EQUAL(
        1.0, metric(m, "portico_target_healthy{route=\"/svc/\",target=\"" + up.url() + "\"}"));
    CPPUNIT_ASSERT(metric(m, "portico_health_check_duration_seconds_count") >= 4);
    CPPUNIT_ASSERT_EQUAL(1.0, metric(m,
                                     "portico_admin_requests_total{method=\"POST\",endpoint=\"/"
                                     "endpoints/routes\",code=\"201\"}"));
    CPPUNIT_ASSERT(
        metric(m,
               "portico_admin_requests_total{method=\"GET\",endpoint=\"/metrics\",code=\"401\"}") >=
        1);
    CPPUNIT_ASSERT_EQUAL(
        1.0,
        metric(
            m,
            "portico_admin_requests_total{method=\"PATCH\",endpoint=\"/endpoints\",code=\"200\"}"));
    CPPUNIT_ASSERT_EQUAL(1.0, metric(m,
                                     "portico_admin_requests_total{method=\"GET\",endpoint=\"/"
                                     "endpoints/changes\",code=\"200\"}"));
    CPPUNIT_ASSERT_EQUAL(
        1.0, metric(m, "portico_admin_requests_total{method=\"GET\",endpoint=\"/\",code=\"200\"}"));
    CPPUNIT_ASSERT(metric(m, "portico_store_write_duration_seconds_count") >= 2);
    CPPUNIT_ASSERT_EQUAL(0.0, metric(m, "portico_store_busy_total"));
    const double revision = metric(m, "portico_store_revision");
    CPPUNIT_ASSERT(revision >= 2);
    CPPUNIT_ASSERT(revision <= std::stod(sqlite(sidecar.db(), "SELECT value FROM revision")));
    CPPUNIT_ASSERT(metric(m, "process_resident_memory_bytes") > 1e6);
    const auto [rc, out] = promtool(dir, m);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, rc);
    CPPUNIT_ASSERT_EQUAL(405, sidecar.request("POST", "/metrics", "{}", auth).status);
  }

  void testCheckValidatesWithoutBindingOrWriting() {
    TempDir dir;
    // Ports in use by someone else: a check must not try to bind them.
    ReachablePort busyAdmin;
    ReachablePort busyProxy;
    const std::string db = dir.file("p.db");
    const std::vector<std::string> common{
        "--check", "--define=store.path=" + db,
        "--define=admin.port=" + std::to_string(busyAdmin.port()),
        "--define=proxy.port=" + std::to_string(busyProxy.port())};
    for (const std::string program : {"portico-proxy", "portico-sidecar"}) {
      // No store yet: the configuration alone is checked, and no store is created.
      auto [rc, out] = runToEnd(dir, program, common, program + "-ok.log");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, rc);
      CPPUNIT_ASSERT_EQUAL(program + ": configuration ok\n", out);
      CPPUNIT_ASSERT(!std::filesystem::exists(db));

      auto bad = common;
      bad.push_back("--define=health.interval=soon");
      std::tie(rc, out) = runToEnd(dir, program, bad, program + "-bad.log");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 78, rc);
      CPPUNIT_ASSERT_MESSAGE(out, out.find("health.interval") != std::string::npos);
      CPPUNIT_ASSERT_EQUAL(std::size_t{1}, lines(out).size());
    }
    {
      auto badProxy = common;
      badProxy.push_back("--define=proxy.trusted_proxies=not-an-address");
      const auto [rc, out] = runToEnd(dir, "portico-proxy", badProxy, "trusted.log");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 78, rc);
      CPPUNIT_ASSERT_MESSAGE(out, out.find("proxy.trusted_proxies") != std::string::npos);
    }
    // A store the binaries know: ok, and not a byte of the directory changes.
    {
      Sidecar sidecar(dir);
      CPPUNIT_ASSERT_MESSAGE(sidecar.process().log(), sidecar.ready());
      sidecar.createRoute("/a/", {});
      CPPUNIT_ASSERT(sidecar.process().stop().has_value());
    }
    const std::string before = listing(dir.path());
    for (const std::string program : {"portico-proxy", "portico-sidecar"}) {
      const auto [rc, out] = runToEnd(dir, program, common, program + "-store.log");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, rc);
    }
    CPPUNIT_ASSERT_EQUAL(before, listing(dir.path()));
    // A store newer than the binaries: refused with the reason.
    {
      portico::SqliteConnection c(db, SQLITE_OPEN_READWRITE);
      c.exec("PRAGMA user_version = 99");
    }
    for (const std::string program : {"portico-proxy", "portico-sidecar"}) {
      const auto [rc, out] = runToEnd(dir, program, common, program + "-newer.log");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 78, rc);
      CPPUNIT_ASSERT_MESSAGE(out, out.find("newer") != std::string::npos);
    }
    // Not a store at all.
    writeFile(dir.file("junk.db"), std::string(4096, 'j'));
    const auto [rc, out] =
        runToEnd(dir, "portico-proxy", {"--check", "--define=store.path=" + dir.file("junk.db")},
                 "junk.log");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 78, rc);
    CPPUNIT_ASSERT_MESSAGE(out, out.find("store.path") != std::string::npos);
  }

  void testAccessLogJsonAndRequestId() {
    Stack s;
    const std::string log = s.dir().file("access.json");
    const int proxy =
        s.proxyToOneEcho("e1", {"proxy.access_log=" + log, "proxy.access_log_format=json"});
    // A client's id passes through to the target and into the log.
    const auto given =
        http(proxy, "GET", "/proxy/given?q=1", "", {{"X-Request-Id", "client-id-42"}});
    CPPUNIT_ASSERT_EQUAL(200, given.status);
    CPPUNIT_ASSERT_EQUAL(std::string("client-id-42"), echoedHeader(given.body, "x-request-id"));
    // Without one (or with one that would break a log line), the proxy makes one.
    const auto made = http(proxy, "GET", "/proxy/made");
    const std::string id = echoedHeader(made.body, "x-request-id");
    CPPUNIT_ASSERT(std::regex_match(id, std::regex("[0-9a-f]{32}")));
    const auto replaced =
        http(proxy, "GET", "/proxy/replaced", "", {{"X-Request-Id", "has \"quotes\""}});
    const std::string replacedId = echoedHeader(replaced.body, "x-request-id");
    CPPUNIT_ASSERT(std::regex_match(replacedId, std::regex("[0-9a-f]{32}")));
    CPPUNIT_ASSERT(id != replacedId);
    CPPUNIT_ASSERT_EQUAL(404, http(proxy, "GET", "/unrouted").status);

    // A line is written once its response is out: wait for all four.
    std::map<std::string, Poco::JSON::Object::Ptr> byPath;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          byPath.clear();
          for (const auto& l : lines(readAll(log))) {
            const auto e = json(l);
            byPath[e->getValue<std::string>("path")] = e;
          }
          for (const char* path :
               {"/proxy/given?q=1", "/proxy/made", "/proxy/replaced", "/unrouted"})
            if (!byPath.count(path)) return false;
          return true;
        },
        5s));
    const auto g = byPath.at("/proxy/given?q=1");
    CPPUNIT_ASSERT_EQUAL(std::string("client-id-42"), g->getValue<std::string>("request_id"));
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), g->getValue<std::string>("client"));
    CPPUNIT_ASSERT_EQUAL(std::string("GET"), g->getValue<std::string>("method"));
    CPPUNIT_ASSERT_EQUAL(200, g->getValue<int>("status"));
    CPPUNIT_ASSERT_EQUAL(static_cast<int>(given.body.size()), g->getValue<int>("bytes_sent"));
    CPPUNIT_ASSERT_EQUAL(std::string("/proxy/"), g->getValue<std::string>("route"));
    CPPUNIT_ASSERT_EQUAL(s.url("e1"), g->getValue<std::string>("target"));
    CPPUNIT_ASSERT(g->getValue<double>("request_time") >= g->getValue<double>("upstream_time"));
    CPPUNIT_ASSERT(std::regex_match(g->getValue<std::string>("time"),
                                    std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    CPPUNIT_ASSERT_EQUAL(id, byPath.at("/proxy/made")->getValue<std::string>("request_id"));
    CPPUNIT_ASSERT_EQUAL(replacedId,
                         byPath.at("/proxy/replaced")->getValue<std::string>("request_id"));
    const auto u = byPath.at("/unrouted");
    CPPUNIT_ASSERT_EQUAL(404, u->getValue<int>("status"));
    CPPUNIT_ASSERT(u->isNull("route"));
    CPPUNIT_ASSERT(u->isNull("target"));
    CPPUNIT_ASSERT(u->isNull("upstream_time"));
    CPPUNIT_ASSERT_EQUAL(std::size_t{32}, u->getValue<std::string>("request_id").size());
  }

  void testAccessLogCombined() {
    Stack s;
    const std::string log = s.dir().file("access.log");
    const int proxy =
        s.proxyToOneEcho("e1", {"proxy.access_log=" + log, "proxy.access_log_format=combined"});
    const auto r = http(proxy, "GET", "/proxy/c?x=1", "",
                        {{"User-Agent", "ops-test/1.0"}, {"Referer", "http://ref.example/"}});
    CPPUNIT_ASSERT_EQUAL(200, r.status);
    std::string line;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          for (const auto& l : lines(readAll(log)))
            if (l.find("/proxy/c?x=1") != std::string::npos) line = l;
          return !line.empty();
        },
        5s));
    // The combined format exactly, as goaccess's COMBINED and nginx's "combined" read it.
    const std::regex combined(
        R"(^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /proxy/c\?x=1 HTTP/1\.1" 200 )" +
        std::to_string(r.body.size()) + R"( "http://ref\.example/" "ops-test/1\.0"$)");
    CPPUNIT_ASSERT_MESSAGE(line, std::regex_match(line, combined));
  }

  void testLogLevelAndJsonFormat() {
    Stack s;
    const int proxy = s.proxy({"log.format=json", "proxy.access_log=off"});
    CPPUNIT_ASSERT(waitUntil(
        [&] { return s.lastProxy().log().find("listening on") != std::string::npos; }, 5s));
    for (const auto& l : lines(s.lastProxy().log())) {
      const auto o = json(l);
      CPPUNIT_ASSERT_EQUAL(std::string("portico-proxy"), o->getValue<std::string>("program"));
      CPPUNIT_ASSERT(!o->getValue<std::string>("time").empty());
      CPPUNIT_ASSERT(!o->getValue<std::string>("level").empty());
      CPPUNIT_ASSERT(o->has("message"));
    }
    // At error level the info lines (listening, store revision) are not written.
    s.proxy({"log.level=error", "proxy.access_log=off"});
    CPPUNIT_ASSERT_EQUAL(200, http(s.statusPort(proxy), "GET", "/healthz").status);
    CPPUNIT_ASSERT(holdsFor([&] { return s.lastProxy().log().empty(); }, 500ms));
    // The text format: time, level, program.
    s.proxy({"proxy.access_log=off"});
    CPPUNIT_ASSERT(waitUntil(
        [&] { return s.lastProxy().log().find("listening on") != std::string::npos; }, 5s));
    CPPUNIT_ASSERT_MESSAGE(
        s.lastProxy().log(),
        std::regex_search(
            s.lastProxy().log(),
            std::regex(
                R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info portico-proxy: listening on)")));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OperationsTest);
