#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <vector>

#include "loop/DeferredWrites.h"

using portico::DeferredWrites;

namespace {

/// Logs its writes; may defer itself or another writer again while writing.
class Recorder final : public DeferredWrites::Writer {
 public:
  Recorder(int id, std::vector<int>& log, DeferredWrites& writes)
      : id_(id), log_(log), writes_(writes) {}
  void writeDeferred() override {
    log_.push_back(id_);
    if (again_ > 0) {
      --again_;
      writes_.add(*this);
    }
    if (next_) writes_.add(*next_);
  }
  int again_{0};
  Recorder* next_{nullptr};

 private:
  int id_;
  std::vector<int>& log_;
  DeferredWrites& writes_;
};

}  // namespace

/// The end-of-batch writes of HTTP/2 connections: one write per connection however many of its
/// streams asked, in the order first asked, none for a writer that wrote or went away before.
class DeferredWritesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(DeferredWritesTest);
  CPPUNIT_TEST(testOneWritePerWriter);
  CPPUNIT_TEST(testCancelledWriterSkipped);
  CPPUNIT_TEST(testDestroyedWriterLeaves);
  CPPUNIT_TEST(testAddedWhileFlushingRunsInTheSameFlush);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testOneWritePerWriter() {
    std::vector<int> log;
    DeferredWrites writes;
    Recorder a(1, log, writes), b(2, log, writes);
    writes.add(a);
    writes.add(b);
    writes.add(a);  // a second stream of the same connection
    CPPUNIT_ASSERT(DeferredWrites::pending(a));
    CPPUNIT_ASSERT(log.empty());  // nothing before the end of the batch
    writes.flush();
    CPPUNIT_ASSERT((log == std::vector<int>{1, 2}));
    CPPUNIT_ASSERT(writes.empty());
    CPPUNIT_ASSERT(!DeferredWrites::pending(a));
    writes.flush();
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, log.size());
  }

  void testCancelledWriterSkipped() {
    std::vector<int> log;
    DeferredWrites writes;
    Recorder a(1, log, writes), b(2, log, writes);
    writes.add(a);
    writes.add(b);
    DeferredWrites::cancel(a);  // it wrote at once (or closed) in the meantime
    writes.flush();
    CPPUNIT_ASSERT((log == std::vector<int>{2}));
  }

  void testDestroyedWriterLeaves() {
    std::vector<int> log;
    DeferredWrites writes;
    Recorder b(2, log, writes);
    {
      auto a = std::make_unique<Recorder>(1, log, writes);
      writes.add(*a);
      writes.add(b);
    }
    writes.flush();
    CPPUNIT_ASSERT((log == std::vector<int>{2}));
  }

  void testAddedWhileFlushingRunsInTheSameFlush() {
    std::vector<int> log;
    DeferredWrites writes;
    Recorder a(1, log, writes), b(2, log, writes);
    a.again_ = 1;  // its write let a stream queue more (a window opened)
    a.next_ = &b;
    writes.add(a);
    writes.flush();
    CPPUNIT_ASSERT((log == std::vector<int>{1, 1, 2}));  // b once, though asked twice
    CPPUNIT_ASSERT(writes.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DeferredWritesTest);
