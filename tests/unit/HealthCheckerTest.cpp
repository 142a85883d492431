#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

#include "HealthChecker.h"
#include "SqliteStore.h"
#include "TestSupport.h"

using namespace std::chrono_literals;
using portico::HealthChecker;
using portico::HealthSpec;
using portico::ProbeResult;
using portico::RouteSpec;
using portico::SqliteStore;
using portico::Store;
using portico::test::sqlite;
using portico::test::TempDir;
using portico::test::waitUntil;

namespace {

/// A probe whose answer per URL the test sets; counts calls and can hold a call at a gate.
class FakeProbe : public portico::Probe {
 public:
  ProbeResult check(const portico::TargetUrl& target, const HealthSpec&,
                    std::chrono::steady_clock::time_point) override {
    std::unique_lock<std::mutex> lock(mutex_);
    const int call = ++calls_[target.canonical];
    if (gateUrl_ == target.canonical && call >= gateCall_) {
      atGate_ = true;
      changed_.notify_all();
      // Bounded: a test that fails while a probe is held must not hang in ~HealthChecker.
      changed_.wait_for(lock, std::chrono::seconds(10), [&] { return gateOpen_; });
    }
    auto it = failing_.find(target.canonical);
    if (it != failing_.end()) return ProbeResult::failure(it->second);
    return ProbeResult::success();
  }

  void fail(const std::string& url, const std::string& error = "connect: Connection refused") {
    std::lock_guard<std::mutex> lock(mutex_);
    failing_[url] = error;
  }
  void heal(const std::string& url) {
    std::lock_guard<std::mutex> lock(mutex_);
    failing_.erase(url);
  }
  int calls(const std::string& url) {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_[url];
  }
  /// The `call`-th probe of `url` waits until openGate().
  void gate(const std::string& url, int call) {
    std::lock_guard<std::mutex> lock(mutex_);
    gateUrl_ = url;
    gateCall_ = call;
  }
  bool atGate() {
    std::lock_guard<std::mutex> lock(mutex_);
    return atGate_;
  }
  void openGate() {
    std::lock_guard<std::mutex> lock(mutex_);
    gateOpen_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> calls_;
  std::map<std::string, std::string> failing_;
  std::string gateUrl_;
  int gateCall_{0};
  bool atGate_{false};
  bool gateOpen_{false};
};

/// A probe that holds every call until released, recording how many run at once.
class HoldingProbe : public portico::Probe {
 public:
  ProbeResult check(const portico::TargetUrl&, const HealthSpec&,
                    std::chrono::steady_clock::time_point) override {
    std::unique_lock<std::mutex> lock(mutex_);
    ++inFlight_;
    most_ = std::max(most_, inFlight_);
    // Bounded: a failing test must not hang in ~HealthChecker.
    released_.wait_for(lock, std::chrono::seconds(10), [&] { return open_; });
    --inFlight_;
    return ProbeResult::success();
  }
  int mostAtOnce() {
    std::lock_guard<std::mutex> lock(mutex_);
    return most_;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    released_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  int inFlight_{0};
  int most_{0};
  bool open_{false};
};

RouteSpec route(const std::string& prefix, std::vector<portico::TargetSpec> targets,
                std::chrono::milliseconds interval, int fall = 1, int rise = 1) {
  RouteSpec s;
  s.prefix = prefix;
  s.health.interval = interval;
  s.health.timeout = 100ms;
  s.health.fall = fall;
  s.health.rise = rise;
  s.targets = std::move(targets);
  return s;
}

const std::string A = "http://127.0.0.1:1/a";
const std::string B = "http://127.0.0.1:1/b";
const std::string C = "http://127.0.0.1:1/c";

}  // namespace

/// The threaded checker over a real store file, with a fake probe: what ends up in the store.
class HealthCheckerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthCheckerTest);
  CPPUNIT_TEST(testTransitionsWrittenToStore);
  CPPUNIT_TEST(testResumesStoredUnhealthyVerdict);
  CPPUNIT_TEST(testNewTargetProbedAtOnce);
  CPPUNIT_TEST(testChangeByAnotherProcessSeenByPolling);
  CPPUNIT_TEST(testRemovedTargetStopsBeingProbed);
  CPPUNIT_TEST(testCheckTimesRecorded);
  CPPUNIT_TEST(testHangingProbesGetMoreWorkersUpToTheCap);
  CPPUNIT_TEST(testShortIntervalKeepsItsPace);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// Probes that hang (silent targets) do not make the others wait: workers are added while
  /// probes queue, never more than maxThreads, and the extra ones leave once idle.
  void testHangingProbesGetMoreWorkersUpToTheCap() {
    store_->createRoute(route(
        "/h/", {A, B, C, "http://127.0.0.1:1/d", "http://127.0.0.1:1/e", "http://127.0.0.1:1/f"},
        50ms));
    auto holding = std::make_shared<HoldingProbe>();
    portico::HealthCheckerOptions options;
    options.threads = 1;
    options.maxThreads = 4;
    options.idleTime = 100ms;
    HealthChecker checker(*store_, holding, options);
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return holding->mostAtOnce() == 4; }, 5s));
    // Six probes are due and all hang, but the cap holds.
    CPPUNIT_ASSERT(portico::test::holdsFor([&] { return holding->mostAtOnce() == 4; }, 300ms));
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), checker.workerCount());
    store_->deleteRoute("/h/");
    checker.notifyChanged();
    holding->release();
    CPPUNIT_ASSERT(waitUntil([&] { return checker.workerCount() == 1; }, 5s));
    checker.stop();
  }

  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    db_ = dir_->file("p.db");
    store_ = std::make_unique<SqliteStore>(db_);
    probe_ = std::make_shared<FakeProbe>();
  }
  void tearDown() override {
    probe_->openGate();
    store_.reset();
    dir_.reset();
  }

  std::string healthy(const std::string& url) {
    return sqlite(db_, "SELECT healthy FROM targets WHERE url = '" + url + "'");
  }
  std::string column(const std::string& url, const std::string& col) {
    return sqlite(db_, "SELECT " + col + " FROM targets WHERE url = '" + url + "'");
  }

  void testTransitionsWrittenToStore() {
    store_->createRoute(route("/a/", {A, B}, 30ms, 2, 1));
    probe_->fail(A);
    HealthChecker checker(*store_, probe_);
    const auto revisionBefore = store_->revision();
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return healthy(A) == "0"; }, 5s));
    CPPUNIT_ASSERT(probe_->calls(A) >= 2);  // fall = 2
    CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"), column(A, "last_error"));
    CPPUNIT_ASSERT(!column(A, "last_changed_at").empty());
    CPPUNIT_ASSERT_EQUAL(revisionBefore + 1, store_->revision());  // the transition bumped it
    // Only transitions are written: more failed probes leave the revision alone.
    const int calls = probe_->calls(A);
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(A) >= calls + 5; }, 5s));
    CPPUNIT_ASSERT_EQUAL(revisionBefore + 1, store_->revision());
    CPPUNIT_ASSERT_EQUAL(std::string("1"), healthy(B));

    probe_->heal(A);
    CPPUNIT_ASSERT(waitUntil([&] { return healthy(A) == "1"; }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string(), column(A, "last_error"));
    CPPUNIT_ASSERT_EQUAL(revisionBefore + 2, store_->revision());
  }

  void testResumesStoredUnhealthyVerdict() {
    auto created = store_->createRoute(route("/a/", {A}, 30ms, 1, 3));
    store_->recordVerdict(created.targets.at(0).id, false, "connect: Connection refused");
    probe_->gate(A, 3);  // the third success would bring it back: hold it there
    HealthChecker checker(*store_, probe_);
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->atGate(); }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), healthy(A));  // two successes: still unhealthy
    probe_->openGate();
    CPPUNIT_ASSERT(waitUntil([&] { return healthy(A) == "1"; }, 5s));
  }

  /// An interval shorter than the store poll: a finished probe wakes the scheduler for the
  /// next one instead of waiting for the scheduler's next planned pass.
  void testShortIntervalKeepsItsPace() {
    store_->createRoute(route("/a/", {A}, 50ms));
    portico::HealthCheckerOptions options;
    options.revisionPoll = 1s;  // the scheduler has no other reason to wake up
    options.checkedFlush = 1s;
    HealthChecker checker(*store_, probe_, options);
    checker.start();
    // ">= 1", not "== 1": a slow (sanitizer) build may see the second probe before it looks.
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(A) >= 1; }, 5s));
    const int before = probe_->calls(A);
    const auto first = std::chrono::steady_clock::now();
    // 20 probes at 50 ms take about 1 s; a probe per scheduler pass would take 20 s.
    const auto slowdown = portico::test::kSlowdown;
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(A) >= before + 20; }, 5s * slowdown));
    const auto took = std::chrono::steady_clock::now() - first;
    CPPUNIT_ASSERT_MESSAGE(std::to_string(took / 1ms) + " ms", took < 2s * slowdown);
  }

  void testNewTargetProbedAtOnce() {
    store_->createRoute(route("/a/", {A}, 1min));
    HealthChecker checker(*store_, probe_);
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(A) == 1; }, 5s));
    const auto added = std::chrono::steady_clock::now();
    store_->addTargets("/a/", {B});
    checker.notifyChanged();
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(B) == 1; }, 5s));
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - added < 1s);  // not one interval later
    CPPUNIT_ASSERT_EQUAL(1, probe_->calls(A));
  }

  void testChangeByAnotherProcessSeenByPolling() {
    store_->createRoute(route("/a/", {A}, 1min));
    HealthChecker checker(*store_, probe_);
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(A) == 1; }, 5s));
    {
      SqliteStore other(db_);  // as another process would: no notifyChanged()
      other.createRoute(route("/c/", {C}, 1min));
    }
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(C) == 1; }, 2s));
  }

  void testRemovedTargetStopsBeingProbed() {
    store_->createRoute(route("/a/", {A, B}, 20ms));
    store_->createRoute(route("/c/", {C}, 20ms));
    HealthChecker checker(*store_, probe_);
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(A) >= 2 && probe_->calls(C) >= 2; }, 5s));
    store_->removeTargets("/a/", {A});
    store_->deleteRoute("/c/");
    checker.notifyChanged();
    // Once B has been probed twice more the removal is applied (one probe may have been in
    // flight); from then on A and C must never be probed again.
    int b = probe_->calls(B);
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(B) >= b + 2; }, 5s));
    const int a = probe_->calls(A);
    const int c = probe_->calls(C);
    b = probe_->calls(B);
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(B) >= b + 15; }, 5s));
    CPPUNIT_ASSERT_EQUAL(a, probe_->calls(A));
    CPPUNIT_ASSERT_EQUAL(c, probe_->calls(C));
  }

  void testCheckTimesRecorded() {
    store_->createRoute(route("/a/", {A, B}, 50ms));
    HealthChecker checker(*store_, probe_);
    checker.start();
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return !column(A, "last_checked_at").empty() && !column(B, "last_checked_at").empty();
        },
        5s));
    const auto first = column(A, "last_checked_at");
    CPPUNIT_ASSERT(waitUntil([&] { return column(A, "last_checked_at") != first; }, 5s));
    // Healthy all along: recording check times is not a change the proxy must reload for.
    CPPUNIT_ASSERT_EQUAL(std::string(""), column(A, "last_changed_at"));
  }

 private:
  std::unique_ptr<TempDir> dir_;
  std::string db_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<FakeProbe> probe_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthCheckerTest);
