#include <Poco/Net/ServerSocket.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "health/HealthChecker.h"
#include "health/ProbeLoops.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using namespace std::chrono_literals;
using portico::HealthChecker;
using portico::HealthSpec;
using portico::ProbeResult;
using portico::RouteSpec;
using portico::SqliteStore;
using portico::Store;
using portico::test::TempDir;
using portico::test::waitUntil;
using Clock = std::chrono::steady_clock;

namespace {

/// The real runner (ProbeLoops), with the start time of every probe recorded per target.
class RecordingProbe : public portico::ProbeRunner, private portico::ProbeSink {
 public:
  void start(portico::ProbeSink& sink) override {
    sink_ = &sink;
    real_.start(*this);
  }
  void stop() override { real_.stop(); }
  void run(std::vector<portico::HealthJob> jobs) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto now = Clock::now();
      for (const auto& job : jobs) times_[job.target.canonical].push_back(now);
    }
    real_.run(std::move(jobs));
  }
  std::map<std::string, std::vector<Clock::time_point>> times() {
    std::lock_guard<std::mutex> lock(mutex_);
    return times_;
  }
  std::size_t targetsProbed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return times_.size();
  }
  /// How many probes the least-probed target has had, leaving out `except`.
  std::size_t fewestProbes(const std::set<std::string>& except) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t fewest = times_.empty() ? 0 : SIZE_MAX;
    for (const auto& [url, ts] : times_)
      if (!except.count(url)) fewest = std::min(fewest, ts.size());
    return fewest;
  }
  int failures() const { return failures_; }

 private:
  void probed(std::vector<portico::ProbeOutcome>& outcomes) override {
    for (const auto& o : outcomes)
      if (!o.result.ok) ++failures_;
    sink_->probed(outcomes);
  }

  portico::ProbeLoops real_;
  portico::ProbeSink* sink_{nullptr};
  std::mutex mutex_;
  std::map<std::string, std::vector<Clock::time_point>> times_;
  std::atomic<int> failures_{0};
};

/// A listening socket that accepts and drops connections, so the accept queue never fills.
class Acceptor {
 public:
  Acceptor() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0), 1024) {
    thread_ = std::thread([this] {
      while (!stop_) {
        try {
          if (socket_.poll(Poco::Timespan(50000), Poco::Net::Socket::SELECT_READ))
            socket_.acceptConnection().close();
        } catch (const Poco::Exception&) {
          // a probe that reset before accept: nothing to do
        }
      }
    });
  }
  ~Acceptor() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return socket_.address().port(); }

 private:
  Poco::Net::ServerSocket socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// A port that never answers: the listener never accepts, so once its accept queue is full the
/// kernel drops every further SYN and a connect hangs until the prober gives up, as with a host
/// that is down behind a firewall.
class Silent {
 public:
  Silent() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0), 1) {
    // Fill the queue now, so even the first probes hang.
    for (auto& filler : fillers_) {
      try {
        filler.connect(socket_.address(), Poco::Timespan(0, 100000));
      } catch (const Poco::Exception&) {
        // the queue was already full: that is the point
      }
    }
  }
  int port() const { return socket_.address().port(); }

 private:
  Poco::Net::ServerSocket socket_;
  std::array<Poco::Net::StreamSocket, 3> fillers_;
};

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

/// 1,000 real tcp probes (listening and refusing loopback ports) over 50 routes: every target
/// keeps its interval.
class HealthScaleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthScaleTest);
  CPPUNIT_TEST(testThousandTargetsHoldTheirSchedule);
  CPPUNIT_TEST(testSilentTargetsDoNotDelayTheOthers);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testThousandTargetsHoldTheirSchedule() { holdSchedule(0); }

  /// 50 targets that never answer, with a timeout longer than the interval (as with 1 s / 3 s):
  /// each is probed again as soon as its probe times out, so 50 probes hang at any moment, yet
  /// the other 950 keep their interval.
  void testSilentTargetsDoNotDelayTheOthers() { holdSchedule(50); }

 private:
  void holdSchedule(int silentCount) {
    // A sanitizer build does the same work several times slower: the schedule is scaled.
    const auto interval = 200ms * portico::test::kSlowdown;
    const auto timeout = (silentCount > 0 ? 600ms : 200ms) * portico::test::kSlowdown;
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    std::vector<std::unique_ptr<Acceptor>> listening;
    for (int i = 0; i < 4; ++i) listening.push_back(std::make_unique<Acceptor>());
    const int refusing = portico::test::freePort();
    std::vector<std::unique_ptr<Silent>> silent;
    for (int i = 0; i < silentCount; ++i) silent.push_back(std::make_unique<Silent>());
    std::set<std::string> silentUrls;
    for (int r = 0; r < 50; ++r) {
      RouteSpec spec;
      spec.prefix = "/r" + std::to_string(r) + "/";
      spec.health.interval = interval;
      spec.health.timeout = timeout;
      for (int t = 0; t < 20; ++t) {
        // Every fifth target refuses; the others share four listening ports by path. With
        // silent targets, the first target of each route is one.
        int port = t % 5 == 4 ? refusing : listening[t % 4]->port();
        if (t == 0 && r < silentCount) port = silent[static_cast<std::size_t>(r)]->port();
        spec.targets.push_back("http://127.0.0.1:" + std::to_string(port) + "/r" +
                               std::to_string(r) + "t" + std::to_string(t));
        if (t == 0 && r < silentCount) silentUrls.insert(spec.targets.back().url);
      }
      store.createRoute(spec);
    }

    auto probe = std::make_shared<RecordingProbe>();
    HealthChecker checker(store, probe);
    const auto started = Clock::now();
    checker.start();
    CPPUNIT_ASSERT(
        waitUntil([&] { return probe->targetsProbed() == 1000; }, 5s * portico::test::kSlowdown));
    const auto allFirst = Clock::now() - started;
    const double cpuBefore = cpuSeconds();
    const auto windowStart = Clock::now();
    // Observe about 20 intervals after every target had its first probe: a schedule that holds
    // gives every target 20 more probes in that time; the bound leaves room for phase offsets.
    CPPUNIT_ASSERT(waitUntil([&] { return probe->fewestProbes(silentUrls) >= 21; }, 30 * interval));
    const double cpu = cpuSeconds() - cpuBefore;
    const auto window = Clock::now() - windowStart;
    checker.stop();

    auto times = probe->times();
    CPPUNIT_ASSERT_EQUAL(std::size_t(1000), times.size());
    Clock::duration worst{};
    std::size_t probes = 0;
    std::size_t late = 0;
    for (const auto& [url, ts] : times) {
      probes += ts.size();
      if (silentUrls.count(url)) {
        // It really hung: each probe took the whole timeout (three intervals), so it had far
        // fewer probes than the others. A listener that answered would make this test moot.
        CPPUNIT_ASSERT_MESSAGE(url + " was not silent", ts.size() < 18);
        continue;
      }
      CPPUNIT_ASSERT_MESSAGE(url, ts.size() >= 18);
      for (std::size_t i = 1; i < ts.size(); ++i) {
        const auto gap = ts[i] - ts[i - 1];
        worst = std::max(worst, gap);
        if (gap > interval * 3 / 2) ++late;
      }
    }
    const auto ms = [](auto d) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    std::cerr << "\n[scale] 1000 targets (" << silentCount << " silent), interval " << ms(interval)
              << "ms, timeout " << ms(timeout) << "ms: all first-probed in " << ms(allFirst)
              << "ms; " << probes << " probes; worst gap " << ms(worst)
              << "ms; gaps > 1.5x interval: " << late << "; process CPU " << cpu << "s over "
              << ms(window) << "ms (incl. test acceptors)" << std::endl;
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), late);
    // Refusing targets fail, listening ones succeed: the probes were real.
    CPPUNIT_ASSERT(probe->failures() > 0 && static_cast<std::size_t>(probe->failures()) < probes);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthScaleTest);
