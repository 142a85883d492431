#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "e2e/ProxyTestHarness.h"

using namespace portico::test;

namespace {

/// A target that answers every request with a head announcing 100 bytes, sends 10 and closes:
/// a response that broke off after it had started.
class BrokenBackend {
 public:
  BrokenBackend() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t n = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~BrokenBackend() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }

 private:
  void run() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos) {
        const ssize_t r = ::read(c, buf, sizeof buf);
        if (r <= 0) break;
        in.append(buf, static_cast<std::size_t>(r));
      }
      if (in.find("\r\n\r\n") != std::string::npos) {
        ++requests_;
        const std::string out =
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Backend: broken\r\n\r\n0123456789";
        (void)!::write(c, out.data(), out.size());
      }
      ::close(c);
    }
  }

  int fd_{-1};
  int port_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string metricsOf(Stack& s, int proxy) {
  return http(s.statusPort(proxy), "GET", "/metrics").body;
}

}  // namespace

/// The resilience policies of issue #20 on the real proxy: retries (what is and is not
/// replayed, the budget), outlier ejection and return, target and route limits, rate limits,
/// and the one round-robin rotation every event loop shares.
class ResilienceProxyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ResilienceProxyTest);
  CPPUNIT_TEST(testA503IsRetriedOnAnotherTarget);
  CPPUNIT_TEST(testPerTryTimeoutMovesOn);
  CPPUNIT_TEST(testPostIsNotRetried);
  CPPUNIT_TEST(testStartedResponseIsNotRetried);
  CPPUNIT_TEST(testBudgetCapsRetriesWhenEveryTargetFails);
  CPPUNIT_TEST(testConsecutiveErrorsEjectAndTheTargetReturns);
  CPPUNIT_TEST(testMaxConnectionsAndMaxRequests);
  CPPUNIT_TEST(testRateLimitPerClient);
  CPPUNIT_TEST(testSequentialRequestsAlternateStrictly);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testA503IsRetriedOnAnotherTarget() {
    Stack s;
    s.echo("a");
    s.echo("b");
    const int proxy = s.proxy({"proxy.workers=2"});
    s.routeServed(proxy, "/r/", {s.url("a"), s.url("b")}, "round_robin",
                  R"(,"retries":{"attempts":1,"on":["503"]})");
    // a answers 503 to these; whichever target the rotation offers first, the client gets b's 200.
    for (int i = 0; i < 6; ++i) {
      const auto r = http(proxy, "GET", "/r/x?status=503&only=a");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("b"), r.header("x-backend"));
    }
    // A body within proxy.retry_buffer is replayed whole.
    const std::string body(5000, 'x');
    for (int i = 0; i < 2; ++i) {
      const auto r = http(proxy, "PUT", "/r/x?status=503&only=a", body);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(5000, json(r.body)->getValue<int>("bodyLength"));
    }
    // Each request whose first attempt met a was retried once (every one of the eight, as a
    // retry takes the rotation's next place too), and its access-log line names both targets.
    const std::string retriedLine = "attempts=2 tried=" + s.url("a") + "," + s.url("b");
    const auto retriedCount = [&] {
      const std::string log = s.lastProxy().log();
      int n = 0;
      for (auto at = log.find(retriedLine); at != std::string::npos;
           at = log.find(retriedLine, at + 1))
        ++n;
      return n;
    };
    const auto m = metricsOf(s, proxy);
    const double retries =
        metric(m, "portico_upstream_retries_total{route=\"/r/\",reason=\"503\"}");
    CPPUNIT_ASSERT_MESSAGE(m, retries >= 4 && retries <= 8);
    CPPUNIT_ASSERT(waitUntil([&] { return retriedCount() == static_cast<int>(retries); }, 5s));
  }

  void testPerTryTimeoutMovesOn() {
    Stack s;
    s.echo("a");
    s.echo("b");
    const int proxy = s.proxy({"proxy.workers=2"});
    s.routeServed(proxy, "/r/", {s.url("a"), s.url("b")}, "round_robin",
                  R"(,"retries":{"attempts":1,"on":["timeout"],"perTryTimeout":"300ms"})");
    // a takes 3 s to answer these; the proxy's read timeout (30 s) would wait for it, the
    // route's perTryTimeout gives up on it after 300 ms and b answers.
    for (int i = 0; i < 4; ++i) {
      const auto started = std::chrono::steady_clock::now();
      const auto r = http(proxy, "GET", "/r/x?delay=3s&only=a");
      const auto took = std::chrono::steady_clock::now() - started;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("b"), r.header("x-backend"));
      CPPUNIT_ASSERT_MESSAGE(
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
          took < 2500ms);
    }
    const auto m = metricsOf(s, proxy);
    CPPUNIT_ASSERT_MESSAGE(
        m, metric(m, "portico_upstream_retries_total{route=\"/r/\",reason=\"timeout\"}") >= 1);
  }

  void testPostIsNotRetried() {
    Stack s;
    s.echo("a");
    s.echo("b");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/r/", {s.url("a"), s.url("b")}, "round_robin",
                  R"(,"retries":{"attempts":2})");
    int refused = 0;
    for (int i = 0; i < 4; ++i) {
      const auto r = http(proxy, "POST", "/r/x?status=503&only=a", "{}");
      // Whoever answered, the client got that answer: a's 503 is not replayed on b.
      CPPUNIT_ASSERT_EQUAL(r.header("x-backend") == "a" ? 503 : 200, r.status);
      refused += r.status == 503;
    }
    CPPUNIT_ASSERT_EQUAL(2, refused);  // the rotation alternates: two of four reach a
    // nonIdempotent: true replays it.
    const auto p = s.admin("PATCH", "/endpoints/routes?prefixPath=/r/",
                           R"({"retries":{"nonIdempotent":true}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(p.body, 200, p.status);
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          for (int i = 0; i < 2; ++i)
            if (http(proxy, "POST", "/r/x?status=503&only=a", "{}").status != 200) return false;
          return true;
        },
        5s));
  }

  void testStartedResponseIsNotRetried() {
    Stack s;
    BrokenBackend broken;
    s.echo("b");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/r/", {broken.url(), s.url("b")}, "round_robin",
                  R"(,"retries":{"attempts":2,"on":["reset","502","503","504"]})");
    const int before = broken.requests();  // the probe above may have met it
    int cut = 0, whole = 0;
    for (int i = 0; i < 6; ++i) {
      const auto r = http(proxy, "GET", "/r/x");
      if (r.header("x-backend") == "broken" || !r.error.empty() || r.status != 200) {
        // The head had gone to the client: it sees the break, not b's answer instead.
        CPPUNIT_ASSERT(r.header("x-backend") != "b");
        ++cut;
      } else {
        CPPUNIT_ASSERT_EQUAL(std::string("b"), r.header("x-backend"));
        ++whole;
      }
    }
    CPPUNIT_ASSERT_EQUAL(broken.requests() - before, cut);
    CPPUNIT_ASSERT_EQUAL(3, cut);
    CPPUNIT_ASSERT_EQUAL(3, whole);
    const auto m = metricsOf(s, proxy);
    // No retry was counted for a reason of the policy (the series exist once one is).
    CPPUNIT_ASSERT_MESSAGE(m, m.find("reason=\"reset\"") == std::string::npos);
  }

  void testBudgetCapsRetriesWhenEveryTargetFails() {
    Stack s;
    for (const char* n : {"a", "b", "c"}) s.echo(n);
    const int proxy = s.proxy();
    s.routeServed(proxy, "/r/", {s.url("a"), s.url("b"), s.url("c")}, "round_robin",
                  R"(,"retries":{"attempts":2,"on":["503"],"budgetPercent":1})");
    constexpr int kClients = 20;
    std::vector<int> statuses(kClients);
    ThreadGroup clients;
    for (int i = 0; i < kClients; ++i)
      clients.spawn(
          [&, i] { statuses[i] = http(proxy, "GET", "/r/x?status=503&delay=400ms").status; });
    clients.join();
    for (const int st : statuses) CPPUNIT_ASSERT_EQUAL(503, st);
    // Without a budget: 20 x 2 retries. With 1 % of 20 in flight, the floor of 3 retries in
    // flight: three requests retry (twice each), the others answer the first 503.
    const auto m = metricsOf(s, proxy);
    const double retries =
        metric(m, "portico_upstream_retries_total{route=\"/r/\",reason=\"503\"}");
    std::cout << "\n  retries with every target failing, 20 requests at once: " << retries
              << std::endl;
    CPPUNIT_ASSERT_MESSAGE(m, retries >= 3 && retries <= 6);
  }

  void testConsecutiveErrorsEjectAndTheTargetReturns() {
    Stack s;
    s.echo("a");
    s.echo("b");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/o/", {s.url("a"), s.url("b")}, "round_robin",
                  R"(,"outlierDetection":{"consecutiveErrors":5,"baseEjectionTime":"1s"})");
    const std::string labels = "{route=\"/o/\",target=\"" + s.url("a") + "\"}";
    // Alternating, a answers five 502s in ten requests: then it is ejected.
    int fromA = 0;
    for (int i = 0; i < 10; ++i)
      fromA += http(proxy, "GET", "/o/x?status=502&only=a").status == 502;
    CPPUNIT_ASSERT_EQUAL(5, fromA);
    auto m = metricsOf(s, proxy);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 1.0, metric(m, "portico_target_ejected" + labels));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 1.0, metric(m, "portico_outlier_ejections_total" + labels));
    const auto start = std::chrono::steady_clock::now();
    // While ejected, b serves everything.
    for (int i = 0; i < 6; ++i) {
      const auto r = http(proxy, "GET", "/o/x?status=502&only=a");
      if (std::chrono::steady_clock::now() - start > 900ms) break;
      CPPUNIT_ASSERT_EQUAL(std::string("b"), r.header("x-backend"));
    }
    // After the ejection time it returns to rotation.
    CPPUNIT_ASSERT(
        waitUntil([&] { return http(proxy, "GET", "/o/y").header("x-backend") == "a"; }, 5s, 50ms));
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start >= 900ms);
    m = metricsOf(s, proxy);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 0.0, metric(m, "portico_target_ejected" + labels));
    const std::string log = s.lastProxy().log();
    CPPUNIT_ASSERT_MESSAGE(
        log, log.find("ejected for 1s after 5 consecutive errors") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(log, log.find("returns from ejection") != std::string::npos);
  }

  void testMaxConnectionsAndMaxRequests() {
    Stack s;
    s.echo("a");
    s.echo("b");
    const int proxy = s.proxy({"proxy.workers=2"});
    const auto r =
        s.admin("POST", "/endpoints/routes",
                "{\"prefixPath\":\"/one/\",\"targets\":[{\"target\":" + quoted(s.url("a")) +
                    ",\"maxConnections\":2}]}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    CPPUNIT_ASSERT(r.body.find("\"maxConnections\":2") != std::string::npos);
    const auto r2 =
        s.admin("POST", "/endpoints/routes",
                "{\"prefixPath\":\"/two/\",\"targets\":[{\"target\":" + quoted(s.url("a")) +
                    ",\"maxConnections\":2}," + quoted(s.url("b")) + "]}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r2.body, 201, r2.status);
    s.route("/route/", {s.url("a"), s.url("b")}, "round_robin", R"(,"maxRequests":2)");
    for (const char* p : {"/one/", "/two/", "/route/"}) s.awaitStatusChange(proxy, p, 404);

    const auto burst = [&](const std::string& path) {
      std::vector<HttpResult> results(5);
      ThreadGroup clients;
      for (int i = 0; i < 5; ++i)
        clients.spawn([&, i] { results[i] = http(proxy, "GET", path + "slow?delay=800ms"); });
      clients.join();
      return results;
    };
    // One target at its limit of 2: 2 reach it, 3 are refused at once.
    int ok = 0, limited = 0;
    for (const auto& res : burst("/one/")) {
      if (res.status == 200) ++ok;
      if (res.status == 503 &&
          field(res.body, "error") == "route /one/ is at its limit of 2 requests in flight")
        ++limited;
    }
    CPPUNIT_ASSERT_EQUAL(2, ok);
    CPPUNIT_ASSERT_EQUAL(3, limited);
    // With another target: 2 reach a, the others go to b.
    int toA = 0, toB = 0;
    for (const auto& res : burst("/two/")) {
      toA += res.header("x-backend") == "a";
      toB += res.header("x-backend") == "b";
    }
    CPPUNIT_ASSERT_EQUAL(2, toA);
    CPPUNIT_ASSERT_EQUAL(3, toB);
    // The route's own limit.
    ok = limited = 0;
    for (const auto& res : burst("/route/")) {
      if (res.status == 200) ++ok;
      if (res.status == 503 &&
          field(res.body, "error") == "route /route/ is at its limit of 2 requests in flight")
        ++limited;
    }
    CPPUNIT_ASSERT_EQUAL(2, ok);
    CPPUNIT_ASSERT_EQUAL(3, limited);
    const auto m = metricsOf(s, proxy);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 3.0, metric(m, "portico_overflow_total{route=\"/one/\"}"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 3.0, metric(m, "portico_overflow_total{route=\"/route/\"}"));
    // PATCH changes the target's limit.
    const auto p = s.admin("PATCH", "/endpoints?prefixPath=/one/&target=" + s.url("a"),
                           R"({"maxConnections":0})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(p.body, 200, p.status);
    CPPUNIT_ASSERT(p.body.find("\"maxConnections\":0") != std::string::npos);
  }

  void testRateLimitPerClient() {
    Stack s;
    s.echo("a");
    const int proxy = s.proxy({"proxy.workers=2", "proxy.access_log=off"});
    s.routeServed(proxy, "/rl/", {s.url("a")}, "round_robin",
                  R"(,"rateLimit":{"requestsPerSecond":10,"burst":5,"by":"client"})");
    // The route was probed above from 127.0.0.1; the flood comes from 10.9.9.9 (X-Forwarded-For
    // from a trusted loopback peer), another client from 10.8.8.8.
    const std::map<std::string, std::string> flooder{{"X-Forwarded-For", "10.9.9.9"}};
    const std::map<std::string, std::string> other{{"X-Forwarded-For", "10.8.8.8"}};
    int admitted = 0, limited = 0, otherServed = 0;
    bool headersSeen = false;
    KeepAliveClient client(proxy);
    KeepAliveClient second(proxy);
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < 2s) {
      const auto r = client.get("/rl/x", flooder);
      if (r.status == 200) {
        ++admitted;
        headersSeen = headersSeen || r.header("ratelimit-limit") == "10";
      } else if (r.status == 429) {
        ++limited;
        const int after =
            std::stoi(r.header("retry-after").empty() ? "0" : r.header("retry-after"));
        CPPUNIT_ASSERT(after >= 1);
        CPPUNIT_ASSERT_EQUAL(std::string("rate limit of 10 requests/s exceeded for route /rl/"),
                             field(r.body, "error"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), r.header("ratelimit-remaining"));
      }
      if ((admitted + limited) % 50 == 0) otherServed += second.get("/rl/y", other).status == 200;
    }
    std::cout << "\n  10/s burst 5 over 2 s: " << admitted << " admitted, " << limited << " refused"
              << std::endl;
    // Burst 5 (a full bucket holds 6) plus 10 a second over 2 s: 26, within one.
    CPPUNIT_ASSERT_MESSAGE(std::to_string(admitted), admitted >= 25 && admitted <= 27);
    CPPUNIT_ASSERT(limited > 100);
    CPPUNIT_ASSERT(headersSeen);
    CPPUNIT_ASSERT(otherServed >= 1);
  }

  void testSequentialRequestsAlternateStrictly() {
    Stack s;
    for (const char* n : {"a", "b", "c"}) s.echo(n);
    const int proxy = s.proxy({"proxy.workers=4", "proxy.access_log=off"});
    s.routeServed(proxy, "/rr/", {s.url("a"), s.url("b"), s.url("c")});
    std::string seq;
    for (int i = 0; i < 30; ++i) seq += http(proxy, "GET", "/rr/x").header("x-backend");
    // New connections land on any of 4 loops; the rotation is the route's, not the loop's.
    for (std::size_t i = 0; i + 3 <= seq.size(); ++i) {
      const std::string w = seq.substr(i, 3);
      CPPUNIT_ASSERT_MESSAGE(seq, w[0] != w[1] && w[1] != w[2] && w[0] != w[2]);
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ResilienceProxyTest);
