#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <vector>

#include "net/EventLoop.h"
#include "net/Releasable.h"

using portico::net::EventLoop;
using portico::net::Releasable;

namespace {

/// Records its destruction; may release another object while being destroyed (a connection
/// its upstream channel).
class Tracked final : public Releasable {
 public:
  Tracked(int id, std::vector<int>& log, EventLoop* loop = nullptr,
          std::unique_ptr<Tracked> next = nullptr)
      : id_(id), log_(log), loop_(loop), next_(std::move(next)) {}
  ~Tracked() override {
    log_.push_back(id_);
    if (next_) loop_->releaseLater(std::move(next_));
  }

 private:
  int id_;
  std::vector<int>& log_;
  EventLoop* loop_;
  std::unique_ptr<Tracked> next_;
};

}  // namespace

/// The loop's deferred release: objects handed over are destroyed when the turn's release
/// runs, never at the call, in the order given, including what their destructors release.
class ReleaseLaterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReleaseLaterTest);
  CPPUNIT_TEST(testDestroyedAtTheEndOfTheTurn);
  CPPUNIT_TEST(testReleasedWhileReleasing);
  CPPUNIT_TEST(testLoopReleasesTheRest);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testDestroyedAtTheEndOfTheTurn() {
    std::vector<int> log;
    EventLoop loop;
    auto a = std::make_unique<Tracked>(1, log);
    Tracked* raw = a.get();
    loop.releaseLater(std::move(a));
    loop.releaseLater(std::make_unique<Tracked>(2, log));
    CPPUNIT_ASSERT(log.empty());  // a handler still on the stack may use it
    CPPUNIT_ASSERT(raw->releasing());
    loop.releaseClosed();
    CPPUNIT_ASSERT((log == std::vector<int>{1, 2}));
    loop.releaseClosed();  // nothing twice
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, log.size());
  }

  void testReleasedWhileReleasing() {
    std::vector<int> log;
    EventLoop loop;
    auto inner = std::make_unique<Tracked>(2, log);
    loop.releaseLater(std::make_unique<Tracked>(1, log, &loop, std::move(inner)));
    loop.releaseClosed();
    CPPUNIT_ASSERT((log == std::vector<int>{1, 2}));  // the same round
  }

  void testLoopReleasesTheRest() {
    std::vector<int> log;
    {
      EventLoop loop;
      loop.releaseLater(std::make_unique<Tracked>(7, log));
    }
    CPPUNIT_ASSERT((log == std::vector<int>{7}));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReleaseLaterTest);
