#include <cppunit/extensions/HelperMacros.h>

#include "health/ProbeKeepAlive.h"
#include "health/ProbeRequest.h"
#include "model/Normalize.h"

using namespace std::chrono_literals;
using portico::HealthJob;
using portico::ProbeAnswer;
using portico::ProbeKeepAlive;
using portico::ProbeType;

namespace {

HealthJob httpJob(std::int64_t id = 7, std::uint64_t generation = 1) {
  HealthJob j;
  j.targetId = id;
  j.generation = generation;
  j.target = portico::parseTargetUrl("http://127.0.0.1:8080");
  j.spec.type = ProbeType::Http;
  j.spec.path = "/healthz";
  return j;
}

}  // namespace

/// Whether an http probe's connection is kept for the next probe, and how many may be: the
/// keep-alive decisions as pure logic.
class HealthKeepAliveTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthKeepAliveTest);
  CPPUNIT_TEST(testReusableAnswers);
  CPPUNIT_TEST(testCapCountsKeptConnections);
  CPPUNIT_TEST(testZeroKeepsNone);
  CPPUNIT_TEST(testConnectionFitsOnlyTheSameCheck);
  CPPUNIT_TEST(testIdleLimit);
  CPPUNIT_TEST(testKeepAliveRequestText);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testReusableAnswers() {
    struct Case {
      ProbeAnswer answer;
      bool reusable;
    };
    const Case cases[] = {
        {{true, true, false}, true},    // HTTP/1.1, whole message, nothing after it
        {{false, true, false}, false},  // Connection: close, or HTTP/1.0
        {{true, false, false}, false},  // body not read to its end (too long, cut short)
        {{true, true, true}, false},    // bytes nobody asked for follow the answer
        {{false, false, true}, false},
    };
    for (const auto& c : cases)
      CPPUNIT_ASSERT_EQUAL(c.reusable, ProbeKeepAlive::reusable(c.answer));
  }

  void testCapCountsKeptConnections() {
    ProbeKeepAlive keep(2);
    CPPUNIT_ASSERT(keep.claim());
    CPPUNIT_ASSERT(keep.claim());
    CPPUNIT_ASSERT(!keep.claim());  // at the cap: this probe sends Connection: close
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), keep.kept());
    keep.release();  // one kept connection closed
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), keep.kept());
    CPPUNIT_ASSERT(keep.claim());
    CPPUNIT_ASSERT(!keep.claim());
  }

  void testZeroKeepsNone() {
    ProbeKeepAlive keep(0);
    CPPUNIT_ASSERT(!keep.claim());
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), keep.kept());
  }

  void testConnectionFitsOnlyTheSameCheck() {
    const HealthJob held = httpJob();
    CPPUNIT_ASSERT(ProbeKeepAlive::fits(held, httpJob()));
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, httpJob(8)));     // another target
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, httpJob(7, 2)));  // the target was replaced
    HealthJob changed = httpJob();
    changed.spec.path = "/ready";  // the route's check changed
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, changed));
    changed = httpJob();
    changed.spec.type = ProbeType::Tcp;  // no longer an http check
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, changed));
    changed = httpJob();
    changed.host = "api.example.com";  // the route's host: another Host header
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, changed));
    changed = httpJob();
    changed.preserveHost = false;
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, changed));
    changed = httpJob();
    changed.spec.interval = 1s;  // any change of the check starts afresh
    CPPUNIT_ASSERT(!ProbeKeepAlive::fits(held, changed));
  }

  void testIdleLimit() {
    portico::HealthSpec spec;
    spec.interval = 5s;
    spec.timeout = 3s;
    CPPUNIT_ASSERT_EQUAL(std::int64_t(13000),
                         std::int64_t(ProbeKeepAlive::idleLimit(spec).count()));
  }

  void testKeepAliveRequestText() {
    const HealthJob j = httpJob();
    CPPUNIT_ASSERT_EQUAL(std::string("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                                     "User-Agent: portico-health\r\nAccept: */*\r\n\r\n"),
                         portico::ProbeRequest::text(j.target, j.spec, "", true));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthKeepAliveTest);
