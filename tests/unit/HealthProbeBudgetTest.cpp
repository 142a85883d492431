// The health schedule under a probe budget (HealthCheckerOptions::maxInFlight) and with probes
// the checker itself could not make (no descriptor left): pure logic, injected clock.

#include <cppunit/extensions/HelperMacros.h>

#include "health/HealthSchedule.h"

using namespace std::chrono_literals;
using portico::HealthJob;
using portico::HealthSchedule;
using portico::ProbeResult;
using portico::RouteRecord;
using portico::TargetRecord;
using TimePoint = HealthSchedule::TimePoint;

namespace {

const TimePoint t0 = TimePoint() + 1000h;

RouteRecord route(int targets, std::chrono::milliseconds interval = 1s) {
  RouteRecord r;
  r.id = 1;
  r.prefix = "/a/";
  r.health.interval = interval;
  r.health.fall = 1;
  r.health.rise = 1;
  for (int i = 1; i <= targets; ++i) {
    TargetRecord t;
    t.id = i;
    t.url = "http://127.0.0.1:9000/t" + std::to_string(i);
    r.targets.push_back(t);
  }
  return r;
}

}  // namespace

class HealthProbeBudgetTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthProbeBudgetTest);
  CPPUNIT_TEST(testTakeDueStopsAtTheLimit);
  CPPUNIT_TEST(testLocalFailureIsNoVerdict);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTakeDueStopsAtTheLimit() {
    HealthSchedule s;
    s.sync({route(10)}, t0);  // never checked: all ten due at once
    const auto first = s.takeDue(t0, 4);
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), first.size());
    // The rest stay due (not lost, not in flight) and come with the next budget.
    CPPUNIT_ASSERT(*s.nextDue() == t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(6), s.takeDue(t0 + 1ms, 100).size());
    CPPUNIT_ASSERT(!s.nextDue());  // all ten in flight now
    CPPUNIT_ASSERT(s.takeDue(t0, 0).empty());
  }

  void testLocalFailureIsNoVerdict() {
    HealthSchedule s;
    s.sync({route(1, 1s)}, t0);
    auto jobs = s.takeDue(t0);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), jobs.size());
    // fall = 1: one real failure would mark it down; running out of descriptors does not.
    CPPUNIT_ASSERT(
        !s.complete(jobs[0], ProbeResult::localFailure("connect: Too many open files"), t0 + 1ms));
    // Probed again at its next turn, where a real failure counts.
    CPPUNIT_ASSERT(*s.dueOf(1) == t0 + 1s);
    jobs = s.takeDue(t0 + 1s);
    const auto verdict =
        s.complete(jobs.at(0), ProbeResult::failure("connect: Connection refused"), t0 + 1s);
    CPPUNIT_ASSERT(verdict);
    CPPUNIT_ASSERT(!verdict->healthy);
    // And a local failure does not bring it back either.
    jobs = s.takeDue(t0 + 2s);
    CPPUNIT_ASSERT(
        !s.complete(jobs.at(0), ProbeResult::localFailure("probe: epoll_ctl: x"), t0 + 2s));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthProbeBudgetTest);
