#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <map>
#include <vector>

#include "http/ClientPhase.h"
#include "http/ClientTimerLists.h"
#include "net/TimerList.h"

using portico::ClientPhase;
using Timeout = ClientPhase::Timeout;
using portico::net::Timer;
using portico::net::TimerHandler;
using portico::net::TimerList;

namespace {

/// A client connection's timers driven by hand: ClientPhase decides, the timer lists keep the
/// deadlines, and a fake clock (milliseconds) says when they expire — what ClientConnection does
/// with the loop's clock, without sockets or waiting.
class Driver : public TimerHandler {
 public:
  Driver()
      : lists_{{Timeout::Header, std::make_shared<TimerList>(60000)},
               {Timeout::Body, std::make_shared<TimerList>(60000)},
               {Timeout::Send, std::make_shared<TimerList>(60000)},
               {Timeout::KeepAlive, std::make_shared<TimerList>(75000)},
               {Timeout::Linger, std::make_shared<TimerList>(5000)},
               {Timeout::Tunnel, std::make_shared<TimerList>(30000)}},
        timer_(*this, 0) {
    apply();
  }

  ClientPhase phase;
  std::int64_t now{0};
  std::vector<Timeout> fired;

  /// As ClientConnection::apply(): arm what the phase says runs, anew when it restarted.
  void apply() {
    const Timeout t = phase.timeout();
    const bool restart = phase.takeRestart();
    if (t != armed_ || restart) {
      armed_ = t;
      timer_.tag = static_cast<int>(t);
      if (t == Timeout::None) {
        timer_.cancel();
      } else {
        lists_.at(t)->arm(timer_, now);
      }
    }
  }
  /// Moves the clock to `ms` and expires what is due.
  void at(std::int64_t ms) {
    now = ms;
    for (auto& [kind, list] : lists_) list->expire(now);
  }
  void onTimeout(int tag) override {
    armed_ = Timeout::None;
    fired.push_back(static_cast<Timeout>(tag));
  }
  bool firedOnly(Timeout t) const { return fired.size() == 1 && fired.front() == t; }

 private:
  std::map<Timeout, std::shared_ptr<TimerList>> lists_;
  Timer timer_;
  Timeout armed_{Timeout::None};
};

}  // namespace

/// A client connection's timeouts and flow control as nginx has them, step by step with a fake
/// clock: the header timeout bounds the whole head, the body timeout the gap between reads, the
/// send timeout a client that stops reading, the keep-alive timeout the wait between requests.
class ClientPhaseTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ClientPhaseTest);
  CPPUNIT_TEST(testHeaderTimeoutBoundsTheWholeHead);
  CPPUNIT_TEST(testKeepAliveThenANewHeaderTimeout);
  CPPUNIT_TEST(testBodyTimeoutBetweenReads);
  CPPUNIT_TEST(testBackPressurePausesAndResumes);
  CPPUNIT_TEST(testSendTimeoutForASlowReader);
  CPPUNIT_TEST(testNoClientTimeoutWhileTheTargetWorks);
  CPPUNIT_TEST(testLingerAndTunnel);
  CPPUNIT_TEST(testHandedOverTimerKeepsItsDeadlineAndPlace);
  CPPUNIT_TEST(testEachTimeoutRunsOnItsOwnList);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testHeaderTimeoutBoundsTheWholeHead() {
    Driver d;
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::Header);
    // A slowloris client: a byte now and then does not start the timeout over.
    d.at(1000);
    d.phase.headStarted();
    d.apply();
    for (std::int64_t t = 1500; t < 60000; t += 500) {
      d.at(t);
      d.apply();  // a byte arrived: nothing restarts
    }
    CPPUNIT_ASSERT(d.fired.empty());
    d.at(60000);  // 60 s after the accept
    CPPUNIT_ASSERT(d.firedOnly(Timeout::Header));
  }

  void testKeepAliveThenANewHeaderTimeout() {
    Driver d;
    d.phase.headStarted();
    d.phase.headComplete(true);
    d.apply();
    d.at(10000);
    d.phase.responseDone();
    d.apply();
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::KeepAlive);
    d.at(84999);
    CPPUNIT_ASSERT(d.fired.empty());
    // The next head starts at 80 s: the keep-alive wait ends, a fresh header timeout runs.
    d.at(80000);
    d.phase.headStarted();
    d.apply();
    d.at(85000);
    CPPUNIT_ASSERT(d.fired.empty());
    d.at(139999);
    CPPUNIT_ASSERT(d.fired.empty());
    d.at(140000);
    CPPUNIT_ASSERT(d.firedOnly(Timeout::Header));

    // An idle connection is closed when its keep-alive time is up.
    Driver idle;
    idle.phase.headStarted();
    idle.phase.headComplete(true);
    idle.phase.responseDone();
    idle.apply();
    idle.at(75000);
    CPPUNIT_ASSERT(idle.firedOnly(Timeout::KeepAlive));
  }

  void testBodyTimeoutBetweenReads() {
    Driver d;
    d.phase.headStarted();
    d.phase.headComplete(false);
    d.apply();
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::None);  // waiting for the target
    d.at(2000);
    d.phase.bodyWanted();
    d.apply();
    d.at(50000);
    d.phase.bodyProgress();  // a read: the gap starts over
    d.apply();
    d.at(109999);
    CPPUNIT_ASSERT(d.fired.empty());
    d.at(110000);
    CPPUNIT_ASSERT(d.firedOnly(Timeout::Body));
  }

  void testBackPressurePausesAndResumes() {
    Driver d;
    d.phase.headStarted();
    d.phase.headComplete(false);
    d.phase.bodyWanted();
    d.apply();
    CPPUNIT_ASSERT(d.phase.reading());
    // The target is backed up: no timeout on the client's side, and once the buffer is full the
    // connection stops reading.
    d.phase.bodyBacklogged();
    d.phase.inputFull(true);
    d.apply();
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::None);
    CPPUNIT_ASSERT(!d.phase.reading());
    d.at(500000);
    CPPUNIT_ASSERT(d.fired.empty());
    // The target took the bytes: reading and the body timeout resume.
    d.phase.bodyWanted();
    d.phase.inputFull(false);
    d.apply();
    CPPUNIT_ASSERT(d.phase.reading());
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::Body);
    d.at(560000);
    CPPUNIT_ASSERT(d.firedOnly(Timeout::Body));
  }

  void testSendTimeoutForASlowReader() {
    Driver d;
    d.phase.headStarted();
    d.phase.headComplete(true);
    d.apply();
    d.at(1000);
    d.phase.writeBlocked();
    d.apply();
    CPPUNIT_ASSERT(d.phase.writing());
    d.at(30000);
    d.phase.writeProgress();  // some went out: the gap starts over
    d.phase.writeBlocked();
    d.apply();
    d.at(89999);
    CPPUNIT_ASSERT(d.fired.empty());
    d.at(90000);
    CPPUNIT_ASSERT(d.firedOnly(Timeout::Send));
    // Drained in time: no send timeout, nothing waits for writability.
    Driver fast;
    fast.phase.headStarted();
    fast.phase.headComplete(true);
    fast.phase.writeBlocked();
    fast.apply();
    fast.at(1000);
    fast.phase.writeDrained();
    fast.apply();
    CPPUNIT_ASSERT(!fast.phase.writing());
    fast.at(200000);
    CPPUNIT_ASSERT(fast.fired.empty());
  }

  void testNoClientTimeoutWhileTheTargetWorks() {
    // The request is in: the target's read timeout runs, not one of the client's.
    Driver d;
    d.phase.headStarted();
    d.phase.headComplete(false);
    d.phase.bodyWanted();
    d.phase.requestComplete();
    d.apply();
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::None);
    d.at(1000000);
    CPPUNIT_ASSERT(d.fired.empty());
    // A client that hangs up stops being read (its end is handled, not polled again).
    d.phase.peerClosed();
    CPPUNIT_ASSERT(!d.phase.reading());
  }

  void testLingerAndTunnel() {
    Driver d;
    d.phase.headStarted();
    d.phase.headComplete(false);
    d.phase.writeBlocked();
    d.apply();
    d.phase.lingering();
    d.apply();
    CPPUNIT_ASSERT(d.phase.timeout() == Timeout::Linger);
    CPPUNIT_ASSERT(d.phase.reading());
    d.at(5000);
    CPPUNIT_ASSERT(d.firedOnly(Timeout::Linger));

    Driver t;
    t.phase.headStarted();
    t.phase.headComplete(true);
    t.phase.tunnel();
    t.apply();
    t.at(20000);
    t.phase.tunnelActivity();
    t.apply();
    t.at(49999);
    CPPUNIT_ASSERT(t.fired.empty());
    t.at(50000);
    CPPUNIT_ASSERT(t.firedOnly(Timeout::Tunnel));
  }

  void testHandedOverTimerKeepsItsDeadlineAndPlace() {
    // A TLS handshake hands its connection to a ClientConnection: the header timeout that has
    // run since the accept goes on, in its place among the other connections' timers.
    struct Recorder : TimerHandler {
      std::vector<int> fired;
      void onTimeout(int tag) override { fired.push_back(tag); }
    } r;
    TimerList list(60000);
    Timer first(r, 1), handshake(r, 2), later(r, 3), connection(r, 4);
    list.arm(first, 0);
    list.arm(handshake, 100);
    list.arm(later, 200);
    connection.takeOver(handshake);
    CPPUNIT_ASSERT(!handshake.armed());
    CPPUNIT_ASSERT(connection.armed());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(60100), connection.deadline);
    list.expire(60100);
    CPPUNIT_ASSERT((std::vector<int>{1, 4}) == r.fired);
    list.expire(60200);
    CPPUNIT_ASSERT((std::vector<int>{1, 4, 3}) == r.fired);
    // An unarmed timer hands over nothing.
    Timer idle(r, 5), heir(r, 6);
    list.arm(heir, 70000);
    heir.takeOver(idle);
    CPPUNIT_ASSERT(!heir.armed());
  }

  void testEachTimeoutRunsOnItsOwnList() {
    using T = portico::ClientPhase::Timeout;
    TimerList header(1), body(2), send(3), keepAlive(4), linger(5), tunnel(6);
    const portico::ClientTimerLists lists{&header, &body, &send, &keepAlive, &linger, &tunnel};
    CPPUNIT_ASSERT(lists.of(T::None) == nullptr);
    CPPUNIT_ASSERT(lists.of(T::Header) == &header);
    CPPUNIT_ASSERT(lists.of(T::Body) == &body);
    CPPUNIT_ASSERT(lists.of(T::Send) == &send);
    CPPUNIT_ASSERT(lists.of(T::KeepAlive) == &keepAlive);
    CPPUNIT_ASSERT(lists.of(T::Linger) == &linger);
    CPPUNIT_ASSERT(lists.of(T::Tunnel) == &tunnel);
    // A timeout a listener does not have (the admin server's tunnel) runs nowhere.
    const portico::ClientTimerLists admin{&header, &body, &send, &keepAlive, &linger, nullptr};
    CPPUNIT_ASSERT(admin.of(T::Tunnel) == nullptr);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ClientPhaseTest);
