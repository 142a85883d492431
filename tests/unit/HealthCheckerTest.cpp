#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "health/HealthChecker.h"
#include "health/ProbeRunner.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

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

/// A runner whose answer per URL the test sets: it completes every probe at once, on the
/// scheduler's thread, counting calls; the `call`-th probe of one URL can be held at a gate
/// (it stays in flight until openGate()).
class FakeRunner : public portico::ProbeRunner {
 public:
  void start(portico::ProbeSink& sink) override {
    std::lock_guard<std::mutex> lock(mutex_);
    sink_ = &sink;
  }
  void stop() override {
    std::lock_guard<std::mutex> lock(mutex_);
    sink_ = nullptr;
    held_.clear();
  }
  void run(std::vector<portico::HealthJob> jobs) override {
    std::vector<portico::ProbeOutcome> outcomes;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& job : jobs) {
      const auto& url = job.target.canonical;
      const int call = ++calls_[url];
      if (gateUrl_ == url && call >= gateCall_ && !gateOpen_) {
        atGate_ = true;
        held_.push_back(std::move(job));
        continue;
      }
      if (hung_.count(url)) continue;  // never answers (the real runner would time it out)
      outcomes.push_back(outcome(std::move(job)));
    }
    // The sink is called with the runner's lock held: stop() cannot return while it runs.
    if (sink_ && !outcomes.empty()) sink_->probed(outcomes);
  }

  void fail(const std::string& url, const std::string& error = "connect: Connection refused") {
    std::lock_guard<std::mutex> lock(mutex_);
    failing_[url] = error;
  }
  void heal(const std::string& url) {
    std::lock_guard<std::mutex> lock(mutex_);
    failing_.erase(url);
  }
  void hang(const std::string& url) {
    std::lock_guard<std::mutex> lock(mutex_);
    hung_.insert(url);
  }
  int calls(const std::string& url) {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_[url];
  }
  /// The `call`-th probe of `url` stays in flight until openGate().
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
    std::vector<portico::ProbeOutcome> outcomes;
    for (auto& job : held_) outcomes.push_back(outcome(std::move(job)));
    held_.clear();
    if (sink_ && !outcomes.empty()) sink_->probed(outcomes);
  }

 private:
  portico::ProbeOutcome outcome(portico::HealthJob job) {
    auto it = failing_.find(job.target.canonical);
    auto result = it == failing_.end() ? ProbeResult::success() : ProbeResult::failure(it->second);
    return portico::ProbeOutcome{std::move(job), std::move(result), 0.001};
  }

  std::mutex mutex_;
  portico::ProbeSink* sink_{nullptr};
  std::map<std::string, int> calls_;
  std::map<std::string, std::string> failing_;
  std::set<std::string> hung_;
  std::vector<portico::HealthJob> held_;
  std::string gateUrl_;
  int gateCall_{0};
  bool atGate_{false};
  bool gateOpen_{false};
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
  CPPUNIT_TEST(testHangingProbesDoNotDelayTheOthers);
  CPPUNIT_TEST(testShortIntervalKeepsItsPace);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// Probes that never answer do not hold up the others: nothing waits for a probe, so the
  /// rest keep their interval while some stay in flight.
  void testHangingProbesDoNotDelayTheOthers() {
    store_->createRoute(route("/h/", {A, B, C}, 20ms));
    probe_->hang(A);
    probe_->hang(B);
    HealthChecker checker(*store_, probe_);
    checker.start();
    CPPUNIT_ASSERT(waitUntil([&] { return probe_->calls(C) >= 20; }, 5s));
    // A probe in flight is never started twice.
    CPPUNIT_ASSERT_EQUAL(1, probe_->calls(A));
    CPPUNIT_ASSERT_EQUAL(1, probe_->calls(B));
    checker.stop();
  }

  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    db_ = dir_->file("p.db");
    store_ = std::make_unique<SqliteStore>(db_);
    probe_ = std::make_shared<FakeRunner>();
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

  /// An interval shorter than the store poll: the scheduler wakes for each next probe instead of
  /// waiting for its next planned pass.
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
  std::shared_ptr<FakeRunner> probe_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthCheckerTest);
