// How long a follower of the change feed waits between two reads of a burst: a table of read
// durations and the gap each gives, with times made up (no clock, no sleep).

#include <cppunit/extensions/HelperMacros.h>

#include "store/FeedPacing.h"

using portico::FeedPacing;
using namespace std::chrono_literals;

class FeedPacingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FeedPacingTest);
  CPPUNIT_TEST(testGapFollowsTheReadsCost);
  CPPUNIT_TEST(testClockOutOfOrder);
  CPPUNIT_TEST(testFixedGap);
  CPPUNIT_TEST(testRechecks);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testGapFollowsTheReadsCost() {
    const FeedPacing pacing(10ms, 50ms, 10);
    const FeedPacing::Clock::time_point end{5s};
    struct Row {
      FeedPacing::Clock::duration cost;  // the read's CPU
      FeedPacing::Clock::duration gap;
    };
    const Row rows[] = {
        {0ms, 10ms},     // a read of nothing: the least gap
        {200us, 10ms},   // a small table: 2 ms of pacing is below the least
        {1ms, 10ms},     // exactly at the least
        {2500us, 25ms},  // ten times the read
        {4ms, 40ms},     // 25,000 routes: a read of ~4 ms
        {5ms, 50ms},     // exactly at the most
        {30ms, 50ms},    // a slow read never waits longer than the most
    };
    for (const auto& row : rows) CPPUNIT_ASSERT(pacing.next(end, row.cost) == end + row.gap);
  }

  void testClockOutOfOrder() {
    const FeedPacing pacing(10ms, 50ms, 10);
    const FeedPacing::Clock::time_point end{5s};
    // A negative cost counts as a read that cost nothing.
    CPPUNIT_ASSERT(pacing.next(end, -1ms) == end + 10ms);
  }

  void testFixedGap() {
    // least == most: the gap no longer depends on the read (the factor does not matter).
    const FeedPacing pacing(20ms, 20ms, 10);
    const FeedPacing::Clock::time_point end{1s};
    CPPUNIT_ASSERT(pacing.next(end, 100ms) == end + 20ms);
    CPPUNIT_ASSERT(pacing.next(end, 0ms) == end + 20ms);
  }

  void testRechecks() {
    // Doubling pauses after an announcement that found nothing new, then back to the feed.
    const int expected[] = {1, 2, 4, 8, 16};
    for (int attempt = 0; attempt < 5; ++attempt) {
      const auto pause = FeedPacing::recheck(attempt);
      CPPUNIT_ASSERT(pause && pause->count() == expected[attempt]);
    }
    CPPUNIT_ASSERT(!FeedPacing::recheck(5));
    CPPUNIT_ASSERT(!FeedPacing::recheck(-1));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FeedPacingTest);
