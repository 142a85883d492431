#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ConnectionDrain.h"

using portico::ConnectionDrain;

/// Drain tokens: exactly as many connections as offered give up their thread, never more.
class ConnectionDrainTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConnectionDrainTest);
  CPPUNIT_TEST(testTakesWhatIsOffered);
  CPPUNIT_TEST(testNewOfferReplacesTheOld);
  CPPUNIT_TEST(testConcurrentTakersNeverOvershoot);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTakesWhatIsOffered() {
    ConnectionDrain drain;
    CPPUNIT_ASSERT(!drain.take());
    drain.offer(2);
    CPPUNIT_ASSERT(drain.take());
    CPPUNIT_ASSERT(drain.take());
    CPPUNIT_ASSERT(!drain.take());
  }

  void testNewOfferReplacesTheOld() {
    ConnectionDrain drain;
    drain.offer(5);
    drain.offer(0);  // the queue emptied: unused tokens expire
    CPPUNIT_ASSERT(!drain.take());
    drain.offer(1);
    CPPUNIT_ASSERT(drain.take());
    CPPUNIT_ASSERT(!drain.take());
  }

  void testConcurrentTakersNeverOvershoot() {
    ConnectionDrain drain;
    drain.offer(1000);
    std::atomic<int> taken{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i)
          if (drain.take()) ++taken;
      });
    for (auto& t : threads) t.join();
    CPPUNIT_ASSERT_EQUAL(1000, taken.load());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConnectionDrainTest);
