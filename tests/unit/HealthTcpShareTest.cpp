#include <cppunit/extensions/HelperMacros.h>

#include "health/TcpProbeShare.h"
#include "model/Normalize.h"

using namespace std::chrono_literals;
using portico::HealthJob;
using portico::ProbeResult;
using portico::ProbeType;
using portico::TcpProbeShare;
using Admit = portico::TcpProbeShare::Admit;

namespace {

HealthJob job(std::int64_t id, const std::string& url, ProbeType type = ProbeType::Tcp) {
  HealthJob j;
  j.targetId = id;
  j.target = portico::parseTargetUrl(url);
  j.spec.type = type;
  j.spec.interval = 5s;
  return j;
}

}  // namespace

/// Which tcp checks share a connect (the same host:port, in flight or answered within the
/// window) and which never do: the sharing decisions as pure logic, on a made-up clock.
class HealthTcpShareTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthTcpShareTest);
  CPPUNIT_TEST(testJobsJoinTheProbeInFlight);
  CPPUNIT_TEST(testAnswerStandsForTheWindowOnly);
  CPPUNIT_TEST(testOtherAddressesAndCheckTypesProbe);
  CPPUNIT_TEST(testShortIntervalShortensTheWindow);
  CPPUNIT_TEST(testLocalFailureIsNotShared);
  CPPUNIT_TEST(testPruneForgetsOldAnswers);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testJobsJoinTheProbeInFlight() {
    TcpProbeShare share(1000ms);
    ProbeResult answer;
    auto a = job(1, "http://10.0.0.1:80/a");
    auto b = job(2, "http://10.0.0.1/b");  // the same address, another path
    auto c = job(3, "https://10.0.0.1:80/c");
    CPPUNIT_ASSERT(share.admit(a, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.admit(b, 1, answer) == Admit::Joined);
    CPPUNIT_ASSERT(share.admit(c, 2, answer) == Admit::Joined);
    const auto joined = share.answered(a, ProbeResult::failure("connect: refused"), 5);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), joined.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), joined[0].targetId);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3), joined[1].targetId);
    // Answered once: a second answer for the address hands back nobody.
    CPPUNIT_ASSERT(share.answered(a, ProbeResult::success(), 6).empty());
  }

  void testAnswerStandsForTheWindowOnly() {
    TcpProbeShare share(1000ms);
    ProbeResult answer;
    auto a = job(1, "http://10.0.0.1:8080/a");
    auto b = job(2, "http://10.0.0.1:8080/b");
    CPPUNIT_ASSERT(share.admit(a, 100, answer) == Admit::Probe);
    share.answered(a, ProbeResult::failure("connect: timed out"), 200);
    CPPUNIT_ASSERT(share.admit(b, 1199, answer) == Admit::Fresh);
    CPPUNIT_ASSERT(!answer.ok);
    CPPUNIT_ASSERT_EQUAL(std::string("connect: timed out"), answer.error);
    CPPUNIT_ASSERT(share.admit(b, 1200, answer) == Admit::Probe);  // the window has passed
    share.answered(b, ProbeResult::success(), 1210);
    CPPUNIT_ASSERT(share.admit(a, 1300, answer) == Admit::Fresh);
    CPPUNIT_ASSERT(answer.ok);
  }

  void testOtherAddressesAndCheckTypesProbe() {
    TcpProbeShare share(1000ms);
    ProbeResult answer;
    auto a = job(1, "http://10.0.0.1:8080/a");
    auto otherPort = job(2, "http://10.0.0.1:8081/a");
    auto otherHost = job(3, "http://10.0.0.2:8080/a");
    auto http = job(4, "http://10.0.0.1:8080/a", ProbeType::Http);
    auto grpc = job(5, "http://10.0.0.1:8080/a", ProbeType::Grpc);
    CPPUNIT_ASSERT(share.admit(a, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.admit(otherPort, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.admit(otherHost, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.admit(http, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.admit(grpc, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.answered(http, ProbeResult::success(), 1).empty());
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), share.size());
  }

  void testShortIntervalShortensTheWindow() {
    TcpProbeShare share(1000ms);
    ProbeResult answer;
    auto a = job(1, "http://10.0.0.1:8080/a");
    auto b = job(2, "http://10.0.0.1:8080/b");
    a.spec.interval = b.spec.interval = 200ms;
    CPPUNIT_ASSERT(share.admit(a, 0, answer) == Admit::Probe);
    share.answered(a, ProbeResult::success(), 0);
    CPPUNIT_ASSERT(share.admit(b, 99, answer) == Admit::Fresh);
    // At a's next probe (one interval on) the answer is too old: it connects again.
    CPPUNIT_ASSERT(share.admit(a, 100, answer) == Admit::Probe);
  }

  void testLocalFailureIsNotShared() {
    TcpProbeShare share(1000ms);
    ProbeResult answer;
    auto a = job(1, "http://10.0.0.1:8080/a");
    auto b = job(2, "http://10.0.0.1:8080/b");
    CPPUNIT_ASSERT(share.admit(a, 0, answer) == Admit::Probe);
    CPPUNIT_ASSERT(share.admit(b, 0, answer) == Admit::Joined);
    // Out of descriptors here says nothing of the address: the joined job takes it (no
    // verdict either), but the next one connects.
    CPPUNIT_ASSERT_EQUAL(std::size_t(1),
                         share.answered(a, ProbeResult::localFailure("connect: EMFILE"), 1).size());
    CPPUNIT_ASSERT(share.admit(a, 2, answer) == Admit::Probe);
  }

  void testPruneForgetsOldAnswers() {
    TcpProbeShare share(1000ms);
    ProbeResult answer;
    auto a = job(1, "http://10.0.0.1:8080/a");
    auto b = job(2, "http://10.0.0.2:8080/b");
    share.admit(a, 0, answer);
    share.answered(a, ProbeResult::success(), 10);
    share.admit(b, 500, answer);  // in flight: kept whatever its age
    share.prune(1009);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), share.size());
    share.prune(5000);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), share.size());
    CPPUNIT_ASSERT(share.admit(b, 5001, answer) == Admit::Joined);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthTcpShareTest);
