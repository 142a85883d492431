// How an SQLite connection waits for another's lock, as a schedule: the pause before each retry
// and whether a retry still fits in the timeout (no lock, no clock).

#include <cppunit/extensions/HelperMacros.h>

#include "store/sqlite/SqliteBusyWait.h"

using portico::SqliteBusyWait;
using namespace std::chrono_literals;

class SqliteBusyWaitTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SqliteBusyWaitTest);
  CPPUNIT_TEST(testShortPausesFirst);
  CPPUNIT_TEST(testRetriesWithinTheTimeout);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testShortPausesFirst() {
    // Twenty tries 100 µs apart (2 ms: a heartbeat's or a create's lock), then every millisecond.
    for (int attempt = 0; attempt < 20; ++attempt)
      CPPUNIT_ASSERT(SqliteBusyWait::pause(attempt) == 100us);
    CPPUNIT_ASSERT(SqliteBusyWait::pause(20) == 1ms);
    CPPUNIT_ASSERT(SqliteBusyWait::pause(5000) == 1ms);
  }

  void testRetriesWithinTheTimeout() {
    struct Row {
      int attempt;
      std::chrono::microseconds waited;
      std::chrono::milliseconds timeout;
      bool retry;
    };
    const Row rows[] = {
        {0, 0us, 0ms, false},          // no timeout: fail at once
        {0, 0us, 100ms, true},         // the first retry
        {19, 1900us, 100ms, true},     // the last short one
        {20, 99000us, 100ms, true},    // a 1 ms pause ending exactly at the timeout
        {21, 99001us, 100ms, false},   // past it
        {10, 99950us, 100ms, false},   // even a short pause past it
        {4000, 4999ms, 5000ms, true},  // the store's usual 5 s
        {4001, 5000ms, 5000ms, false},
    };
    for (const auto& row : rows)
      CPPUNIT_ASSERT_EQUAL(row.retry, SqliteBusyWait::retry(row.attempt, row.waited, row.timeout));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SqliteBusyWaitTest);
