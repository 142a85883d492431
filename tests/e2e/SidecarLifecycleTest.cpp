// End-to-end tests of portico-sidecar as a process: configuration seed and restarts, refusing
// bad configuration, a busy port or a bad store, and SIGKILL in the middle of a write burst.

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/String.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/SidecarHarness.h"
#include "support/TestSupport.h"

using namespace portico::test;
using namespace std::chrono_literals;

namespace {

/// prefix -> its target URLs in order, as the admin API lists them.
std::map<std::string, std::vector<std::string>> routesViaApi(const Sidecar& s) {
  const auto r = s.request("GET", "/endpoints/routes");
  CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
  std::map<std::string, std::vector<std::string>> out;
  const auto routes = parseObject(r)->getArray("routes");
  for (std::size_t i = 0; i < routes->size(); ++i) {
    const auto route = routes->getObject(static_cast<unsigned>(i));
    auto& urls = out[route->getValue<std::string>("prefixPath")];
    const auto targets = route->getArray("targets");
    for (std::size_t j = 0; j < targets->size(); ++j)
      urls.push_back(targets->getObject(static_cast<unsigned>(j))->getValue<std::string>("target"));
  }
  return out;
}

using Urls = std::vector<std::string>;

/// The process's output, trimmed: a refusal must be exactly one line.
std::string onlyLine(ChildProcess& p) {
  const std::string log = Poco::trim(p.log());
  CPPUNIT_ASSERT_MESSAGE("more than one line: " + log, log.find('\n') == std::string::npos);
  return log;
}

void setUserVersion(const std::string& db, int version) {
  sqlite3* conn = nullptr;
  CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_open(db.c_str(), &conn));
  const std::string sql = "CREATE TABLE t(x); PRAGMA user_version = " + std::to_string(version);
  const int rc = sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(conn);
  CPPUNIT_ASSERT_EQUAL(SQLITE_OK, rc);
}

}  // namespace

/// portico-sidecar across restarts, refusals and crashes.
class SidecarLifecycleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SidecarLifecycleTest);
  CPPUNIT_TEST(testRestartKeepsApiChangesOverConfigSeed);
  CPPUNIT_TEST(testInvalidConfiguration);
  CPPUNIT_TEST(testSecondInstanceOnSamePortFails);
  CPPUNIT_TEST(testUnusableStore);
  CPPUNIT_TEST(testKillDuringWriteBurst);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRestartKeepsApiChangesOverConfigSeed() {
    TempDir dir;
    const std::string config = dir.file("portico.properties");
    const std::string routesAB =
        "route.a.prefix = /a/\n"
        "route.a.targets = http://127.0.0.1:1/a1, http://127.0.0.1:1/a2\n"
        "route.b.prefix = b\n"
        "route.b.targets = http://127.0.0.1:1/b1\n"
        "route.b.balancer = ip_hash\n";
    writeFile(config, routesAB);
    const int port = freePort();
    const std::vector<std::string> withConfig{"--config=" + config};
    {
      Sidecar s(dir, withConfig, port, "run1.log");
      CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
      // First start: the configured routes are created.
      CPPUNIT_ASSERT(
          (routesViaApi(s) ==
           std::map<std::string, Urls>{{"/a/", {"http://127.0.0.1:1/a1", "http://127.0.0.1:1/a2"}},
                                       {"/b/", {"http://127.0.0.1:1/b1"}}}));
      CPPUNIT_ASSERT_EQUAL(std::string("ip_hash"),
                           sqlite(s.db(), "SELECT balancer FROM routes WHERE prefix='/b/'"));
      // API changes on top of the configuration.
      CPPUNIT_ASSERT_EQUAL(200,
                           s.request("POST", "/endpoints/remove",
                                     R"({"prefixPath":"/a/","targets":["http://127.0.0.1:1/a1"]})")
                               .status);
      CPPUNIT_ASSERT_EQUAL(200,
                           s.request("POST", "/endpoints/add",
                                     R"({"prefixPath":"/a/","targets":["http://127.0.0.1:1/a3"],)"
                                     R"("healthCheck":{"interval":"9s"}})")
                               .status);
      CPPUNIT_ASSERT_EQUAL(200, s.request("DELETE", "/endpoints/routes?prefixPath=/b/").status);
      CPPUNIT_ASSERT_EQUAL(201,
                           s.request("POST", "/endpoints/routes",
                                     R"({"prefixPath":"/c/","targets":["http://127.0.0.1:1/c1"]})")
                               .status);
      // SIGTERM stops it cleanly.
      const auto status = s.process().stop(10s);
      CPPUNIT_ASSERT_MESSAGE(s.process().log(), status.has_value());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(s.process().log(), 0, *status);
      CPPUNIT_ASSERT_MESSAGE(s.process().log(),
                             contains(s.process().log(), "created route /a/ from configuration"));
    }
    const std::map<std::string, Urls> afterApi{
        {"/a/", {"http://127.0.0.1:1/a2", "http://127.0.0.1:1/a3"}},
        {"/c/", {"http://127.0.0.1:1/c1"}}};
    {
      // Same configuration plus a new route: only the new route is seeded; the removed target
      // and the deleted route stay gone.
      writeFile(config,
                routesAB + "route.d.prefix = /d/\nroute.d.targets = http://127.0.0.1:1/d1\n");
      Sidecar s(dir, withConfig, port, "run2.log");
      CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
      auto expected = afterApi;
      expected["/d/"] = {"http://127.0.0.1:1/d1"};
      CPPUNIT_ASSERT((routesViaApi(s) == expected));
      CPPUNIT_ASSERT_EQUAL(
          std::string("9000"),
          sqlite(s.db(), "SELECT health_interval_ms FROM routes WHERE prefix='/a/'"));
      const std::string log = s.process().log();
      CPPUNIT_ASSERT_MESSAGE(log, contains(log, "created route /d/ from configuration"));
      CPPUNIT_ASSERT_MESSAGE(log, !contains(log, "created route /a/"));
      CPPUNIT_ASSERT_MESSAGE(log, !contains(log, "created route /b/"));
      CPPUNIT_ASSERT_EQUAL(0, s.process().stop(10s).value_or(-1));
    }
    {
      // Without any configuration the store alone has everything.
      Sidecar s(dir, {}, port, "run3.log");
      CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
      auto expected = afterApi;
      expected["/d/"] = {"http://127.0.0.1:1/d1"};
      CPPUNIT_ASSERT((routesViaApi(s) == expected));
    }
  }

  void testInvalidConfiguration() {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"--define=admin.port=99999", "admin.port"},
        {"--define=admin.port=http", "admin.port"},
        {"--define=health.interval=5parsecs", "health.interval"},
        {"--define=route.x.prefix=/x/", "route.x.balancer"},  // with the next define
        {"--define=route.y.targets=ftp://host", "route.y"},
        {"--define=admin.colour=blue", "admin.colour"},
    };
    for (const auto& [arg, key] : cases) {
      TempDir dir;
      std::vector<std::string> args{arg};
      if (key == "route.x.balancer") args.push_back("--define=route.x.balancer=random");
      // Sidecar puts its own admin.port first; a later --define overrides it.
      Sidecar s(dir, args);
      const auto status = s.process().wait(10s);
      CPPUNIT_ASSERT_MESSAGE(arg + ": still running", status.has_value());
      CPPUNIT_ASSERT_MESSAGE(arg + ": exit status 0", *status != 0);
      const std::string line = onlyLine(s.process());
      CPPUNIT_ASSERT_MESSAGE(arg + ": " + line, contains(line, key));
      CPPUNIT_ASSERT_MESSAGE(arg + ": store created", !Poco::File(s.db()).exists());
    }
  }

  void testSecondInstanceOnSamePortFails() {
    TempDir first, second;
    Sidecar a(first);
    CPPUNIT_ASSERT_MESSAGE(a.process().log(), a.ready());
    Sidecar b(second, {}, a.port());
    const auto status = b.process().wait(10s);
    CPPUNIT_ASSERT_MESSAGE("second sidecar still running: " + b.process().log(),
                           status.has_value());
    CPPUNIT_ASSERT(*status != 0);
    const std::string line = onlyLine(b.process());
    CPPUNIT_ASSERT_MESSAGE(line, contains(line, "admin.port"));
    CPPUNIT_ASSERT_MESSAGE(line, contains(line, std::to_string(a.port())));
    CPPUNIT_ASSERT_MESSAGE(line, contains(Poco::toLower(line), "in use"));
    // It failed before touching its store, and the first one is unaffected.
    CPPUNIT_ASSERT(!Poco::File(b.db()).exists());
    CPPUNIT_ASSERT_EQUAL(200, a.request("GET", "/endpoints/routes").status);
    CPPUNIT_ASSERT(a.process().running());
  }

  void testUnusableStore() {
    {
      TempDir dir;
      writeFile(dir.file("p.db"), std::string(4096, 'x'));  // not a database
      Sidecar s(dir);
      const auto status = s.process().wait(10s);
      CPPUNIT_ASSERT_MESSAGE(s.process().log(), status.has_value() && *status != 0);
      const std::string line = onlyLine(s.process());
      CPPUNIT_ASSERT_MESSAGE(line, contains(line, "store.path") && contains(line, s.db()));
    }
    {
      TempDir dir;
      setUserVersion(dir.file("p.db"), 999);  // written by a newer release
      Sidecar s(dir);
      const auto status = s.process().wait(10s);
      CPPUNIT_ASSERT_MESSAGE(s.process().log(), status.has_value() && *status != 0);
      const std::string line = onlyLine(s.process());
      CPPUNIT_ASSERT_MESSAGE(line, contains(line, "store.path") && contains(line, "999"));
    }
  }

  void testKillDuringWriteBurst() {
    TempDir dir;
    auto s = std::make_unique<Sidecar>(dir);
    CPPUNIT_ASSERT_MESSAGE(s->process().log(), s->ready());
    CPPUNIT_ASSERT_EQUAL(
        201, s->request("POST", "/endpoints/routes", R"({"prefixPath":"/burst/"})").status);
    const int port = s->port();
    const std::string closed = "http://127.0.0.1:" + std::to_string(freePort());

    constexpr int kRequests = 200;
    constexpr int kThreads = 12;
    struct Outcome {
      bool add;
      std::string url;
      int status;
      int count;  // addedCount / removedCount of a 2xx
    };
    std::atomic<int> next{0}, finished{0};
    std::atomic<bool> killed{false};
    std::mutex mutex;
    std::vector<Outcome> outcomes;
    auto client = [&] {
      std::vector<std::string> mine;  // added (2xx) by this thread, not yet asked to remove
      for (int i = next++; i < kRequests && !killed; i = next++) {
        Outcome o;
        o.add = !(i % 4 == 3 && !mine.empty());
        o.url = o.add ? closed + "/t" + std::to_string(i) : mine.back();
        if (!o.add) mine.pop_back();
        const std::string body = R"({"prefixPath":"/burst/","targets":[")" + o.url + R"("]})";
        const auto r =
            http(port, "POST", o.add ? "/endpoints/add" : "/endpoints/remove", body, {}, 5s);
        // A 2xx whose body the kill cut short is no answer to the client either. (No CppUnit
        // assertion here: a failure thrown off the test thread would end the process.)
        const auto answer = r.status / 100 == 2 ? tryParseObject(r) : nullptr;
        o.status = r.status / 100 == 2 && !answer ? 0 : r.status;
        o.count = -1;
        if (answer) {
          o.count = answer->optValue<int>(o.add ? "addedCount" : "removedCount", -1);
          if (o.add) mine.push_back(o.url);
        }
        ++finished;
        std::lock_guard<std::mutex> lock(mutex);
        outcomes.push_back(o);
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(client);
    // SIGKILL in the middle of the burst.
    CPPUNIT_ASSERT(waitUntil([&] { return finished >= kRequests / 3; }, 30s, 1ms));
    killed = true;  // no new requests after this; those in flight may or may not be answered
    const int finishedAtKill = finished;
    s->process().kill9();
    for (auto& t : threads) t.join();

    int ok = 0, failed = 0, other = 0, adds = 0, removes = 0;
    for (const auto& o : outcomes) {
      if (o.status / 100 == 2) {
        ++ok;
        (o.add ? adds : removes)++;
      } else if (o.status == 0) {
        ++failed;
      } else {
        ++other;
      }
    }
    std::cout << "\nkill -9 burst: " << kRequests << " requests by " << kThreads << " threads; "
              << finishedAtKill << " finished when SIGKILL was sent; " << ok << " got 2xx (" << adds
              << " adds, " << removes << " removes), " << failed << " in flight got no answer, "
              << other << " other statuses, " << kRequests - static_cast<int>(outcomes.size())
              << " never sent" << std::endl;
    CPPUNIT_ASSERT_EQUAL(0, other);
    CPPUNIT_ASSERT_MESSAGE("the kill came after the burst", ok < kRequests);
    CPPUNIT_ASSERT(ok >= kRequests / 3);

    // The store as the crash left it: intact, and holding every acknowledged change.
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), sqlite(s->db(), "PRAGMA integrity_check"));
    const std::string rows = sqlite(s->db(), "SELECT url FROM targets ORDER BY id");
    std::set<std::string> stored;
    for (std::size_t pos = 0; pos < rows.size();) {
      const auto end = std::min(rows.find('\n', pos), rows.size());
      stored.insert(rows.substr(pos, end - pos));
      pos = end + 1;
    }
    std::set<std::string> removeAttempted;
    for (const auto& o : outcomes)
      if (!o.add) removeAttempted.insert(o.url);
    int checkedPresent = 0, checkedAbsent = 0;
    for (const auto& o : outcomes) {
      if (o.status / 100 != 2) continue;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(o.url, 1, o.count);  // unique URLs: each 2xx changed one row
      if (o.add && !removeAttempted.count(o.url)) {
        CPPUNIT_ASSERT_MESSAGE("acknowledged add lost: " + o.url, stored.count(o.url));
        ++checkedPresent;
      } else if (!o.add) {
        CPPUNIT_ASSERT_MESSAGE("acknowledged remove undone: " + o.url, !stored.count(o.url));
        ++checkedAbsent;
      }
    }
    std::cout << "kill -9 burst: integrity_check ok; " << stored.size() << " targets stored; "
              << checkedPresent << " acknowledged adds present, " << checkedAbsent
              << " acknowledged removes absent" << std::endl;

    // A new sidecar opens the crashed store and serves the same rows.
    s.reset();
    Sidecar again(dir, {}, 0, "again.log");
    CPPUNIT_ASSERT_MESSAGE(again.process().log(), again.ready());
    const auto routes = routesViaApi(again);
    CPPUNIT_ASSERT_EQUAL(stored.size(), routes.at("/burst/").size());
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), sqlite(again.db(), "PRAGMA integrity_check"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SidecarLifecycleTest);
