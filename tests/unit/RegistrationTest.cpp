#include <cppunit/extensions/HelperMacros.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "net/EventLoop.h"
#include "net/Registration.h"

using portico::net::EventHandler;
using portico::net::EventLoop;
using portico::net::InterestChange;
using portico::net::interestChange;
using portico::net::Registration;

namespace {

class NoHandler final : public EventHandler {
 public:
  void onEvent(std::uint32_t) override {}
};

/// Both ends of a pipe, closed at the end of the test.
struct Pipe {
  int fds[2]{-1, -1};
  Pipe() { CPPUNIT_ASSERT_EQUAL(0, ::pipe(fds)); }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int read() const { return fds[0]; }
};

}  // namespace

/// A connection's interest on the loop: epoll is told only what changed, and a refusal is a
/// status, not an exception.
class RegistrationTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RegistrationTest);
  CPPUNIT_TEST(testInterestChange);
  CPPUNIT_TEST(testWantFollowsTheInterest);
  CPPUNIT_TEST(testRefusalIsAStatus);
  CPPUNIT_TEST(testLeaveAndForget);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testInterestChange() {
    const std::uint32_t in = EPOLLIN | EPOLLRDHUP;
    const std::uint32_t out = EPOLLOUT;
    CPPUNIT_ASSERT(interestChange(false, 0, in) == InterestChange::Add);
    CPPUNIT_ASSERT(interestChange(true, in, in) == InterestChange::None);
    CPPUNIT_ASSERT(interestChange(true, in, in | out) == InterestChange::Modify);
    CPPUNIT_ASSERT(interestChange(true, in | out, out) == InterestChange::Modify);
    // Nothing to wait for: out of the epoll set (a level-triggered hang-up would spin the loop).
    CPPUNIT_ASSERT(interestChange(true, in, 0) == InterestChange::Remove);
    CPPUNIT_ASSERT(interestChange(false, 0, 0) == InterestChange::None);
    // What an unregistered descriptor "had" does not count.
    CPPUNIT_ASSERT(interestChange(false, in, in) == InterestChange::Add);
  }

  void testWantFollowsTheInterest() {
    EventLoop loop;
    NoHandler handler;
    Pipe pipe;
    Registration r(loop, handler);
    CPPUNIT_ASSERT(!r.registered());
    CPPUNIT_ASSERT(r.want(pipe.read(), EPOLLIN));
    CPPUNIT_ASSERT(r.registered());
    CPPUNIT_ASSERT_EQUAL(std::uint32_t{EPOLLIN}, r.interest());
    // The same interest again makes no system call: a second EPOLL_CTL_ADD would fail (EEXIST).
    CPPUNIT_ASSERT(r.want(pipe.read(), EPOLLIN));
    CPPUNIT_ASSERT(r.want(pipe.read(), EPOLLIN | EPOLLRDHUP));
    CPPUNIT_ASSERT_EQUAL(std::uint32_t{EPOLLIN | EPOLLRDHUP}, r.interest());
    // None: out of the set, and added anew afterwards (an ADD of a registered fd would fail).
    CPPUNIT_ASSERT(r.want(pipe.read(), 0));
    CPPUNIT_ASSERT(!r.registered());
    CPPUNIT_ASSERT(!loop.tryModify(pipe.read(), EPOLLIN, handler));  // really gone: ENOENT
    CPPUNIT_ASSERT_EQUAL(ENOENT, errno);
    CPPUNIT_ASSERT(r.want(pipe.read(), EPOLLIN));
    CPPUNIT_ASSERT(r.registered());
  }

  void testRefusalIsAStatus() {
    EventLoop loop;
    NoHandler handler;
    Pipe pipe;
    Registration r(loop, handler);
    const int fd = pipe.read();
    ::close(fd);
    pipe.fds[0] = -1;
    CPPUNIT_ASSERT(!r.want(fd, EPOLLIN));
    CPPUNIT_ASSERT_EQUAL(EBADF, errno);
    CPPUNIT_ASSERT(!r.registered());
    CPPUNIT_ASSERT_EQUAL(std::uint32_t{0}, r.interest());
  }

  void testLeaveAndForget() {
    EventLoop loop;
    NoHandler handler;
    Pipe pipe;
    Registration r(loop, handler);
    CPPUNIT_ASSERT(r.want(pipe.read(), EPOLLIN));
    r.leave();  // the descriptor stays open (handed on): it must be out of the set
    CPPUNIT_ASSERT(!r.registered());
    CPPUNIT_ASSERT(loop.tryAdd(pipe.read(), EPOLLIN, handler));  // not in the set any more
    loop.remove(pipe.read());
    CPPUNIT_ASSERT(r.want(pipe.read(), EPOLLOUT));
    r.forget();  // about to be closed: no system call, the registration is empty
    CPPUNIT_ASSERT(!r.registered());
    CPPUNIT_ASSERT_EQUAL(std::uint32_t{0}, r.interest());
    // forget() told epoll nothing: the descriptor is still in the set until it is closed.
    CPPUNIT_ASSERT(!loop.tryAdd(pipe.read(), EPOLLIN, handler));
    CPPUNIT_ASSERT_EQUAL(EEXIST, errno);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RegistrationTest);
