#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

#include "e2e/ProxyTestHarness.h"
#include "support/HealthTestBackend.h"

using namespace portico::test;
using Clock = std::chrono::steady_clock;

namespace {

std::string loopbackUrl(int port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

constexpr int kRoutes = 2000;
// Routes whose first target is a controllable health backend, checked every 300 ms.
const std::vector<int> kWatched{250, 1000, 1750};

}  // namespace

/// A store of 2,000 routes (4,000 targets, created through the API in the test): a change is
/// still served within the usual bound, and health transitions of a few targets among them
/// are detected within interval + timeout.
class ScaleE2ETest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ScaleE2ETest);
  CPPUNIT_TEST(testTwoThousandRoutes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTwoThousandRoutes() {
    // Declared first, destroyed last: the sidecar stops probing before they close. Opened
    // only once the child processes run: a child would inherit the listening sockets and keep
    // them open after close().
    std::vector<std::unique_ptr<HealthTestBackend>> watched;
    Stack s;
    s.echo("a");
    s.echo("b");
    const int proxy = s.proxy();
    for (std::size_t i = 0; i < kWatched.size(); ++i)
      watched.push_back(std::make_unique<HealthTestBackend>());

    const auto created = Clock::now();
    for (int r = 0; r < kRoutes; ++r) {
      const std::string p = "/r" + std::to_string(r) + "/";
      std::size_t w = 0;
      while (w < kWatched.size() && kWatched[w] != r) ++w;
      if (w < kWatched.size()) {
        s.route(p, {loopbackUrl(watched[w]->port()), s.url("b") + "/r" + std::to_string(r)},
                "round_robin", R"(,"healthCheck":{"interval":"300ms","timeout":"300ms"})");
      } else {
        s.route(p, {s.url("a") + "/r" + std::to_string(r), s.url("b") + "/r" + std::to_string(r)});
      }
    }
    const auto createMs = msSince(created);
    s.awaitStatusChange(proxy, "/r" + std::to_string(kRoutes - 1) + "/", 404);

    // A change among 2,000 routes: served within the reload interval (50 ms here) plus margin.
    std::vector<long long> lags;
    for (int i = 0; i < 5; ++i) {
      const std::string prefix = "/r" + std::to_string(100 + 397 * i) + "/";
      const std::string marker = "/added" + std::to_string(i);
      const auto t = Clock::now();
      s.add(prefix, {s.url("a") + marker});
      CPPUNIT_ASSERT(waitUntil(
          [&] {
            return tryField(http(proxy, "GET", prefix + "x").body, "path").rfind(marker, 0) == 0;
          },
          2s, 1ms));
      lags.push_back(msSince(t));
    }
    for (const auto lag : lags) CPPUNIT_ASSERT_MESSAGE(std::to_string(lag) + " ms", lag < 1000);

    // Health transitions: every watched target goes down, then up, within interval + timeout
    // (600 ms) and a margin for a loaded machine.
    const auto bound = std::chrono::milliseconds(600 + 900);
    auto stored = [&](int w) {
      return sqlite(s.store(), "SELECT healthy FROM targets WHERE url = '" +
                                   loopbackUrl(watched[static_cast<std::size_t>(w)]->port()) + "'");
    };
    for (std::size_t w = 0; w < watched.size(); ++w)
      CPPUNIT_ASSERT(waitUntil([&] { return stored(static_cast<int>(w)) == "1"; }, 3s));
    std::vector<long long> down, up;
    auto t = Clock::now();
    for (auto& b : watched) b->close();
    for (std::size_t w = 0; w < watched.size(); ++w) {
      CPPUNIT_ASSERT(waitUntil([&] { return stored(static_cast<int>(w)) == "0"; }, bound, 5ms));
      down.push_back(msSince(t));
    }
    // The proxy follows: the route's requests all go to its other target.
    const std::string first = "/r" + std::to_string(kWatched[0]) + "/";
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          for (int i = 0; i < 4; ++i)
            if (tryField(http(proxy, "GET", first + "x").body, "name") != "b") return false;
          return true;
        },
        2s));
    t = Clock::now();
    for (auto& b : watched) b->reopen();
    for (std::size_t w = 0; w < watched.size(); ++w) {
      CPPUNIT_ASSERT(waitUntil([&] { return stored(static_cast<int>(w)) == "1"; }, bound, 5ms));
      up.push_back(msSince(t));
    }
    // Every other target stayed healthy all along.
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(s.store(), "SELECT count(*) FROM targets WHERE healthy = 0"));
    auto line = [](const std::vector<long long>& v) {
      std::string out;
      for (auto x : v) out += std::to_string(x) + "ms ";
      return out;
    };
    std::cerr << "\n[scale] " << kRoutes << " routes created in " << createMs
              << " ms; change -> served: " << line(lags) << "; down: " << line(down)
              << "; up: " << line(up) << std::endl;
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ScaleE2ETest);
