#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <chrono>

#include "store/FeedWake.h"

using portico::FeedWake;

/// The interrupt both change feeds wait on: it ends a wait at once and stays set, so every
/// later wait ends too (the follower is stopping); it wins over a readable descriptor. Deadlines
/// in the past keep the test free of timing.
class FeedWakeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FeedWakeTest);
  CPPUNIT_TEST(testNothingPendingTimesOut);
  CPPUNIT_TEST(testReadableDescriptor);
  CPPUNIT_TEST(testInterruptStaysSetAndWins);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { CPPUNIT_ASSERT_EQUAL(0, ::pipe(pipe_)); }
  void tearDown() override {
    ::close(pipe_[0]);
    ::close(pipe_[1]);
  }

  void testNothingPendingTimesOut() {
    FeedWake wake;
    CPPUNIT_ASSERT(wake.wait(pipe_[0], past()) == FeedWake::Event::TimedOut);
    CPPUNIT_ASSERT(wake.wait(-1, past()) == FeedWake::Event::TimedOut);
    CPPUNIT_ASSERT(!wake.interrupted());
  }

  void testReadableDescriptor() {
    FeedWake wake;
    CPPUNIT_ASSERT_EQUAL(ssize_t(1), ::write(pipe_[1], "x", 1));
    CPPUNIT_ASSERT(wake.wait(pipe_[0], past()) == FeedWake::Event::Readable);
    CPPUNIT_ASSERT(wake.wait(-1, past()) == FeedWake::Event::TimedOut);  // not watched
  }

  void testInterruptStaysSetAndWins() {
    FeedWake wake;
    CPPUNIT_ASSERT_EQUAL(ssize_t(1), ::write(pipe_[1], "x", 1));
    wake.interrupt();
    for (int i = 0; i < 3; ++i) {
      CPPUNIT_ASSERT(wake.wait(pipe_[0], past()) == FeedWake::Event::Interrupted);
      CPPUNIT_ASSERT(wake.interrupted());
    }
    // A wait that would block ends at once: the deadline here is far away.
    const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
    CPPUNIT_ASSERT(wake.wait(-1, far) == FeedWake::Event::Interrupted);
  }

 private:
  static std::chrono::steady_clock::time_point past() {
    return std::chrono::steady_clock::now() - std::chrono::seconds(1);
  }
  int pipe_[2]{-1, -1};
};

CPPUNIT_TEST_SUITE_REGISTRATION(FeedWakeTest);
