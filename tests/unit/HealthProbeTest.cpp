#include <cppunit/extensions/HelperMacros.h>

#include "HealthTestBackend.h"
#include "Normalize.h"
#include "ProbeByType.h"
#include "TestSupport.h"

using namespace std::chrono_literals;
using portico::HealthSpec;
using portico::ProbeByType;
using portico::ProbeResult;
using portico::ProbeType;
using portico::test::HealthTestBackend;
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

ProbeResult check(const std::string& url, const HealthSpec& s) {
  ProbeByType probe;
  return probe.check(portico::parseTargetUrl(url), s, Clock::now() + s.timeout);
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
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthProbeTest);
