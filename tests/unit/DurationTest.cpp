#include <cppunit/extensions/HelperMacros.h>

#include "base/Duration.h"
#include "base/Errors.h"

using namespace std::chrono_literals;
using portico::formatDuration;
using portico::InvalidInput;
using portico::parseDuration;

/// Durations from configuration and API bodies: a number with a unit.
class DurationTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(DurationTest);
  CPPUNIT_TEST(testUnits);
  CPPUNIT_TEST(testRejects);
  CPPUNIT_TEST(testFormat);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testUnits() {
    CPPUNIT_ASSERT(parseDuration("250ms") == 250ms);
    CPPUNIT_ASSERT(parseDuration("5s") == 5000ms);
    CPPUNIT_ASSERT(parseDuration("1m") == 60000ms);
    CPPUNIT_ASSERT(parseDuration("1h") == 3600000ms);
    CPPUNIT_ASSERT(parseDuration("1.5s") == 1500ms);
    CPPUNIT_ASSERT(parseDuration("2000us") == 2ms);
    CPPUNIT_ASSERT(parseDuration("3000000ns") == 3ms);
    CPPUNIT_ASSERT(parseDuration("0s") == 0ms);
  }

  void testRejects() {
    for (const char* bad : {"", "5", "s", "5 s", "5sec", "-1s", "1.2.3s", "abc", "5S", "9999h"})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, parseDuration(bad), InvalidInput);
  }

  void testFormat() {
    CPPUNIT_ASSERT_EQUAL(std::string("5s"), formatDuration(5000ms));
    CPPUNIT_ASSERT_EQUAL(std::string("1500ms"), formatDuration(1500ms));
    CPPUNIT_ASSERT_EQUAL(std::string("1m"), formatDuration(60000ms));
    CPPUNIT_ASSERT_EQUAL(std::string("0ms"), formatDuration(0ms));
    for (auto d : {1ms, 999ms, 1000ms, 61000ms, 7200000ms})
      CPPUNIT_ASSERT(parseDuration(formatDuration(d)) == d);
  }
};
CPPUNIT_TEST_SUITE_REGISTRATION(DurationTest);
