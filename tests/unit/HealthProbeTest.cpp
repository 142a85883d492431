#include <Poco/Net/ServerSocket.h>
#include <cppunit/extensions/HelperMacros.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "health/ProbeLoops.h"
#include "health/ProbeRequest.h"
#include "model/Normalize.h"
#include "support/HealthTestBackend.h"
#include "support/TestSupport.h"

using namespace std::chrono_literals;
using portico::HealthSpec;
using portico::ProbeResult;
using portico::ProbeType;
using portico::test::HealthTestBackend;
using portico::test::waitUntil;
using Clock = std::chrono::steady_clock;

namespace {

HealthSpec spec(ProbeType type, const std::string& path = "/",
                std::chrono::milliseconds timeout = 500ms) {
  HealthSpec s;
  s.type = type;
  s.path = path;
  s.timeout = timeout;
  return s;
}

/// Collects the outcomes a runner hands over.
class Outcomes : public portico::ProbeSink {
 public:
  void probed(std::vector<portico::ProbeOutcome>& outcomes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& o : outcomes) got_.push_back(std::move(o));
    arrived_.notify_all();
  }
  /// Waits (bounded) until `n` outcomes arrived.
  std::vector<portico::ProbeOutcome> await(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<portico::ProbeOutcome> got_;
};

portico::HealthJob job(const std::string& url, const HealthSpec& s, std::int64_t id = 1) {
  portico::HealthJob j;
  j.targetId = id;
  j.target = portico::parseTargetUrl(url);
  j.spec = s;
  return j;
}

/// One probe on a probe loop, as the checker runs it.
ProbeResult check(const std::string& url, const HealthSpec& s) {
  portico::ProbeLoops loops(1);
  Outcomes outcomes;
  loops.start(outcomes);
  loops.run({job(url, s)});
  const auto got = outcomes.await(1, s.timeout + 5s);
  loops.stop();
  CPPUNIT_ASSERT_EQUAL_MESSAGE(url, std::size_t(1), got.size());
  return got.front().result;
}

std::string local(int port, const std::string& base = "") {
  return "http://127.0.0.1:" + std::to_string(port) + base;
}

}  // namespace

/// The tcp and http probes against real loopback sockets: verdicts and the error wording.
class HealthProbeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthProbeTest);
  CPPUNIT_TEST(testTcpListening);
  CPPUNIT_TEST(testTcpRefused);
  CPPUNIT_TEST(testHttpStatuses);
  CPPUNIT_TEST(testHttpPathJoinsBasePath);
  CPPUNIT_TEST(testHttpTimeoutCoversResponse);
  CPPUNIT_TEST(testHttpRefused);
  CPPUNIT_TEST(testRequestText);
  CPPUNIT_TEST(testProbeHostOfHostRoutes);
  CPPUNIT_TEST(testManyProbesOnOneLoop);
  CPPUNIT_TEST(testKeptConnectionCarriesNextProbes);
  CPPUNIT_TEST(testKeptConnectionClosedByTarget);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTcpListening() {
    HealthTestBackend backend;
    auto r = check(local(backend.port()), spec(ProbeType::Tcp));
    CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
  }

  void testTcpRefused() {
    const int port = portico::test::freePort();
    auto r = check(local(port), spec(ProbeType::Tcp));
    CPPUNIT_ASSERT(!r.ok);
    CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"), r.error);
  }

  void testHttpStatuses() {
    HealthTestBackend backend;
    for (int status : {200, 204, 301, 302, 399}) {
      backend.setStatus(status);
      auto r = check(local(backend.port()), spec(ProbeType::Http, "/health"));
      CPPUNIT_ASSERT_MESSAGE(std::to_string(status) + " " + r.error, r.ok);
    }
    for (int status : {500, 503, 404, 400}) {
      backend.setStatus(status);
      auto r = check(local(backend.port()), spec(ProbeType::Http, "/health"));
      CPPUNIT_ASSERT(!r.ok);
      CPPUNIT_ASSERT_EQUAL("http: status " + std::to_string(status), r.error);
    }
    // A tcp probe does not care what HTTP says.
    CPPUNIT_ASSERT(check(local(backend.port()), spec(ProbeType::Tcp, "/health")).ok);
  }

  void testHttpPathJoinsBasePath() {
    HealthTestBackend backend;
    CPPUNIT_ASSERT(check(local(backend.port(), "/base"), spec(ProbeType::Http, "/healthz")).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("/base/healthz"), backend.lastPath());
    CPPUNIT_ASSERT(check(local(backend.port()), spec(ProbeType::Http, "/")).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("/"), backend.lastPath());
    CPPUNIT_ASSERT(check(local(backend.port()), spec(ProbeType::Http, "/h?full=1")).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("/h?full=1"), backend.lastPath());
  }

  void testHttpTimeoutCoversResponse() {
    HealthTestBackend backend;
    backend.setDelay(2s);
    const auto started = Clock::now();
    auto r = check(local(backend.port()), spec(ProbeType::Http, "/", 200ms));
    const auto took = Clock::now() - started;
    CPPUNIT_ASSERT(!r.ok);
    CPPUNIT_ASSERT_EQUAL(std::string("timeout after 200ms"), r.error);
    CPPUNIT_ASSERT(took >= 180ms && took < 1s);
    // The tcp probe only connects, so the slow handler does not matter to it.
    CPPUNIT_ASSERT(check(local(backend.port()), spec(ProbeType::Tcp, "/", 200ms)).ok);
  }

  void testHttpRefused() {
    HealthTestBackend backend;
    const int port = backend.port();
    backend.close();
    auto r = check(local(port), spec(ProbeType::Http));
    CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"), r.error);
    backend.reopen();
    CPPUNIT_ASSERT_EQUAL(port, backend.port());
    CPPUNIT_ASSERT(check(local(port), spec(ProbeType::Http)).ok);
  }

  /// A probe of a host route's target asks for that site (issue #19): an exact host is the
  /// Host, a wildcard or any-host route keeps the target's authority.
  void testProbeHostOfHostRoutes() {
    const auto target = portico::parseTargetUrl("http://10.0.0.2:8080");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "10.0.0.2:8080"},
        {"api.example.com", "api.example.com"},
        {"*.example.com", "10.0.0.2:8080"},
        {"10.0.0.9", "10.0.0.9"},
        {"[::1]", "[::1]"},
    };
    for (const auto& [routeHost, expected] : cases)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(routeHost, expected,
                                   portico::ProbeRequest::host(target, routeHost));
    const auto text =
        portico::ProbeRequest::text(target, spec(ProbeType::Http, "/h"), "api.example.com");
    CPPUNIT_ASSERT_MESSAGE(text, text.find("\r\nHost: api.example.com\r\n") != std::string::npos);
  }

  void testRequestText() {
    const auto s = spec(ProbeType::Http, "healthz");
    CPPUNIT_ASSERT_EQUAL(
        std::string("GET /base/healthz HTTP/1.1\r\nHost: [::1]:8080\r\n"
                    "User-Agent: portico-health\r\nAccept: */*\r\n"
                    "Connection: close\r\n\r\n"),
        portico::ProbeRequest::text(portico::parseTargetUrl("http://[::1]:8080/base"), s));
    CPPUNIT_ASSERT(portico::ProbeRequest::verdict(204).ok);
    CPPUNIT_ASSERT(portico::ProbeRequest::verdict(399).ok);
    CPPUNIT_ASSERT_EQUAL(std::string("http: status 199"),
                         portico::ProbeRequest::verdict(199).error);
    CPPUNIT_ASSERT_EQUAL(std::string("http: status 400"),
                         portico::ProbeRequest::verdict(400).error);
  }

  /// 2,000 probes at once on one loop and one thread, half listening and half refused: each
  /// ends in exactly one outcome with the right verdict.
  void testManyProbesOnOneLoop() {
    // The kernel completes the handshakes: a listener that never accepts, with room for all.
    Poco::Net::ServerSocket listening(Poco::Net::SocketAddress("127.0.0.1", 0), 2048);
    const int port = listening.address().port();
    const int refused = portico::test::freePort();
    portico::ProbeLoops loops(1);
    Outcomes outcomes;
    loops.start(outcomes);
    std::vector<portico::HealthJob> jobs;
    for (int i = 0; i < 2000; ++i)
      jobs.push_back(job(local(i % 2 ? refused : port, "/t" + std::to_string(i)),
                         spec(ProbeType::Tcp, "/", 2s), i));
    loops.run(std::move(jobs));
    const auto got = outcomes.await(2000, 20s);
    CPPUNIT_ASSERT(waitUntil([&] { return loops.inFlight() == 0; }, 5s));
    loops.stop();
    CPPUNIT_ASSERT_EQUAL(std::size_t(2000), got.size());
    std::set<std::int64_t> seen;
    for (const auto& o : got) {
      CPPUNIT_ASSERT(seen.insert(o.job.targetId).second);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(o.result.error, o.job.targetId % 2 == 0, o.result.ok);
    }
  }

  /// With keep-alive allowed, one target's probes, one after another, share one connection.
  void testKeptConnectionCarriesNextProbes() {
    HealthTestBackend backend(0, true);
    portico::ProbeLoops loops(1, nullptr, 10);
    Outcomes outcomes;
    loops.start(outcomes);
    for (std::size_t i = 1; i <= 5; ++i) {
      loops.run({job(local(backend.port()), spec(ProbeType::Http, "/healthz"))});
      const auto got = outcomes.await(i, 5s);
      CPPUNIT_ASSERT_EQUAL(i, got.size());
      CPPUNIT_ASSERT_MESSAGE(got.back().result.error, got.back().result.ok);
    }
    CPPUNIT_ASSERT_EQUAL(5, backend.requests());
    CPPUNIT_ASSERT_EQUAL(1, backend.connections());
    CPPUNIT_ASSERT(waitUntil([&] { return loops.kept() == 1; }, 2s));
    loops.stop();
  }

  /// A kept connection the target closes between probes costs a new connection, never a
  /// failed probe.
  void testKeptConnectionClosedByTarget() {
    HealthTestBackend backend(0, true);
    portico::ProbeLoops loops(1, nullptr, 10);
    Outcomes outcomes;
    loops.start(outcomes);
    loops.run({job(local(backend.port()), spec(ProbeType::Http))});
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), outcomes.await(1, 5s).size());
    backend.close();  // closes the kept connection
    backend.reopen();
    loops.run({job(local(backend.port()), spec(ProbeType::Http))});
    const auto got = outcomes.await(2, 5s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), got.size());
    CPPUNIT_ASSERT_MESSAGE(got.back().result.error, got.back().result.ok);
    CPPUNIT_ASSERT_EQUAL(1, backend.connections());  // since reopen()
    CPPUNIT_ASSERT(waitUntil([&] { return loops.kept() == 1; }, 2s));
    loops.stop();
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthProbeTest);
