#include <cppunit/extensions/HelperMacros.h>

#include "health/HealthState.h"

using portico::HealthState;

/// fall/rise hysteresis of one target's verdict.
class HealthStateTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthStateTest);
  CPPUNIT_TEST(testFallThree);
  CPPUNIT_TEST(testSuccessResetsFailures);
  CPPUNIT_TEST(testRiseTwo);
  CPPUNIT_TEST(testOneAndOneFlipsEachTime);
  CPPUNIT_TEST(testStartsFromStoredVerdict);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFallThree() {
    HealthState s(true);
    CPPUNIT_ASSERT(!s.record(false, 3, 2));
    CPPUNIT_ASSERT(!s.record(false, 3, 2));
    CPPUNIT_ASSERT(s.healthy());  // two failures keep it healthy
    CPPUNIT_ASSERT_EQUAL(2, s.streak());
    CPPUNIT_ASSERT(s.record(false, 3, 2));  // the third flips
    CPPUNIT_ASSERT(!s.healthy());
    CPPUNIT_ASSERT_EQUAL(0, s.streak());
    CPPUNIT_ASSERT(!s.record(false, 3, 2));  // more failures change nothing
    CPPUNIT_ASSERT(!s.healthy());
  }

  void testSuccessResetsFailures() {
    HealthState s(true);
    s.record(false, 3, 1);
    s.record(false, 3, 1);
    CPPUNIT_ASSERT(!s.record(true, 3, 1));
    CPPUNIT_ASSERT(!s.record(false, 3, 1));
    CPPUNIT_ASSERT(!s.record(false, 3, 1));
    CPPUNIT_ASSERT(s.healthy());  // never three in a row
    CPPUNIT_ASSERT(s.record(false, 3, 1));
  }

  void testRiseTwo() {
    HealthState s(false);
    CPPUNIT_ASSERT(!s.record(true, 1, 2));
    CPPUNIT_ASSERT(!s.healthy());
    CPPUNIT_ASSERT(!s.record(false, 1, 2));  // a failure restarts the count
    CPPUNIT_ASSERT(!s.record(true, 1, 2));
    CPPUNIT_ASSERT(!s.healthy());
    CPPUNIT_ASSERT(s.record(true, 1, 2));
    CPPUNIT_ASSERT(s.healthy());
  }

  void testOneAndOneFlipsEachTime() {
    HealthState s(true);
    CPPUNIT_ASSERT(s.record(false, 1, 1));
    CPPUNIT_ASSERT(s.record(true, 1, 1));
    CPPUNIT_ASSERT(s.record(false, 1, 1));
    CPPUNIT_ASSERT(!s.healthy());
  }

  void testStartsFromStoredVerdict() {
    HealthState s(false);
    CPPUNIT_ASSERT(!s.healthy());
    CPPUNIT_ASSERT(!s.record(false, 1, 1));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthStateTest);
