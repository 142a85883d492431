#include <cppunit/extensions/HelperMacros.h>

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
    writes_.add(a_);
    writes_.add(b_);
    writes_.add(a_);  // a second stream of the same connection
    CPPUNIT_ASSERT(DeferredWrites::pending(a_));
    CPPUNIT_ASSERT(log_.empty());  // nothing before the end of the batch
    writes_.flush();
    CPPUNIT_ASSERT((log_ == std::vector<int>{1, 2}));
    CPPUNIT_ASSERT(writes_.empty());
    CPPUNIT_ASSERT(!DeferredWrites::pending(a_));
    writes_.flush();
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, log_.size());
  }

  void testCancelledWriterSkipped() {
    writes_.add(a_);
    writes_.add(b_);
    DeferredWrites::cancel(a_);  // it wrote at once (or closed) in the meantime
    writes_.flush();
    CPPUNIT_ASSERT((log_ == std::vector<int>{2}));
  }

  void testDestroyedWriterLeaves() {
    {
      Recorder gone(3, log_, writes_);
      writes_.add(gone);
      writes_.add(b_);
    }
    writes_.flush();
    CPPUNIT_ASSERT((log_ == std::vector<int>{2}));
  }

  void testAddedWhileFlushingRunsInTheSameFlush() {
    a_.again_ = 1;  // its write let a stream queue more (a window opened)
    a_.next_ = &b_;
    writes_.add(a_);
    writes_.flush();
    CPPUNIT_ASSERT((log_ == std::vector<int>{1, 1, 2}));  // b once, though asked twice
    CPPUNIT_ASSERT(writes_.empty());
  }

 private:
  std::vector<int> log_;
  DeferredWrites writes_;
  Recorder a_{1, log_, writes_};
  Recorder b_{2, log_, writes_};
};

CPPUNIT_TEST_SUITE_REGISTRATION(DeferredWritesTest);
