#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <set>
#include <thread>

#include "e2e/SidecarHarness.h"

using namespace std::chrono_literals;
using namespace portico::test;
using Poco::JSON::Object;

namespace {

const std::map<std::string, std::string> kJson{{"Content-Type", "application/json"}};

std::string patchPath(const std::string& prefix, const std::string& url) {
  return "/endpoints?prefixPath=" + prefix + "&target=" + url;
}

/// The store's revision as an ETag.
std::string storeEtag(const Sidecar& s) {
  return "\"" + sqlite(s.db(), "SELECT value FROM revision") + "\"";
}

/// Every row of /endpoints/changes after `since`, following nextSince page by page of `limit`.
std::vector<Object::Ptr> follow(const Sidecar& s, std::int64_t& since, int limit) {
  std::vector<Object::Ptr> rows;
  for (;;) {
    const auto r = s.request("GET", "/endpoints/changes?since=" + std::to_string(since) +
                                        "&limit=" + std::to_string(limit));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    const auto page = parseObject(r);
    const auto changes = page->getArray("changes");
    for (std::size_t i = 0; i < changes->size(); ++i)
      rows.push_back(changes->getObject(static_cast<unsigned>(i)));
    since = page->getValue<std::int64_t>("nextSince");
    if (changes->size() == 0) return rows;
  }
}

std::string text(const Object::Ptr& o, const std::string& key) {
  return o->has(key) && !o->isNull(key) ? o->getValue<std::string>(key) : "";
}

/// A row as "revision action route target after", to compare two reads of the history.
std::string line(const Object::Ptr& row) {
  std::ostringstream after;
  if (!row->isNull("after")) row->getObject("after")->stringify(after);
  return text(row, "revision") + " " + text(row, "action") + " " + text(row, "route") + " " +
         text(row, "target") + " " + after.str();
}

}  // namespace

/// The admin API's traffic controls against the real sidecar: health checks by serving state,
/// If-Match, ETags and the change history.
class TrafficSidecarTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TrafficSidecarTest);
  CPPUNIT_TEST(testDisabledStopsHealthChecksDrainingDoesNot);
  CPPUNIT_TEST(testStaleIfMatchIs412AndChangesNothing);
  CPPUNIT_TEST(testEveryAnswerCarriesTheRevision);
  CPPUNIT_TEST(testHistoryShowsWhoChangedWhat);
  CPPUNIT_TEST(testSincePagesWithoutGapsOrRepeatsUnderConcurrentWriters);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testDisabledStopsHealthChecksDrainingDoesNot() {
    TempDir dir;
    Sidecar s(dir, {"--define=health.interval=100ms", "--define=health.timeout=100ms"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    ReachablePort active, draining, disabled;
    s.createRoute("/svc/", {active.url(), draining.url(), disabled.url()});
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          for (const auto& p : {&active, &draining, &disabled})
            if (s.stored(p->url(), "last_checked_at").empty()) return false;
          return true;
        },
        5s));
    CPPUNIT_ASSERT_EQUAL(200, s.request("PATCH", patchPath("/svc/", draining.url()),
                                        R"({"state":"draining"})", kJson)
                                  .status);
    const auto r =
        s.request("PATCH", patchPath("/svc/", disabled.url()), R"({"state":"disabled"})", kJson);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    const std::string frozen = s.stored(disabled.url(), "last_checked_at");
    CPPUNIT_ASSERT_EQUAL(text(parseObject(r), "lastCheckedAt"), frozen);
    const std::string activeBefore = s.stored(active.url(), "last_checked_at");
    const std::string drainingBefore = s.stored(draining.url(), "last_checked_at");
    // Over 25 intervals (and two flushes of check times) the disabled target's check time stays
    // put, while the others are still checked.
    CPPUNIT_ASSERT(holdsFor([&] { return s.stored(disabled.url(), "last_checked_at") == frozen; },
                            2500ms, 50ms));
    CPPUNIT_ASSERT(s.stored(active.url(), "last_checked_at") != activeBefore);
    CPPUNIT_ASSERT(s.stored(draining.url(), "last_checked_at") != drainingBefore);
    CPPUNIT_ASSERT_EQUAL(std::string("disabled|1"),
                         s.stored(disabled.url(), "state || '|' || healthy"));
    // Re-enabled: checked again at once.
    CPPUNIT_ASSERT_EQUAL(
        200, s.request("PATCH", patchPath("/svc/", disabled.url()), R"({"state":"active"})", kJson)
                 .status);
    CPPUNIT_ASSERT(
        waitUntil([&] { return s.stored(disabled.url(), "last_checked_at") != frozen; }, 3s));
  }

  void testStaleIfMatchIs412AndChangesNothing() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    ReachablePort a, b;
    s.createRoute("/api/", {a.url()});
    const auto read = s.request("GET", "/endpoints/list?prefixPath=/api/");
    const std::string seen = read.header("etag");
    CPPUNIT_ASSERT_EQUAL(storeEtag(s), seen);
    // Someone else changes the route after our read...
    auto r = s.request("PATCH", patchPath("/api/", a.url()), R"({"weight":40})", kJson);
    CPPUNIT_ASSERT_EQUAL(200, r.status);
    CPPUNIT_ASSERT(r.header("etag") != seen);
    // ...so every write made against what we read is refused, and changes nothing.
    const std::string before = storeSnapshot(s.db()) + sqlite(s.db(), "SELECT * FROM changes");
    const std::map<std::string, std::string> stale{{"Content-Type", "application/json"},
                                                   {"If-Match", seen}};
    const std::vector<std::tuple<std::string, std::string, std::string>> writes{
        {"PATCH", patchPath("/api/", a.url()), R"({"weight":70})"},
        {"POST", "/endpoints/add", R"({"prefixPath":"/api/","targets":[")" + b.url() + "\"]}"},
        {"POST", "/endpoints/remove", R"({"prefixPath":"/api/","targets":[")" + a.url() + "\"]}"},
        {"POST", "/endpoints/routes", R"({"prefixPath":"/other/"})"},
        {"DELETE", "/endpoints/routes?prefixPath=/api/", ""},
    };
    for (const auto& [method, path, body] : writes) {
      r = s.request(method, path, body, stale);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(method + " " + path + " -> " + r.body, 412, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("application/json"), r.header("content-type"));
      CPPUNIT_ASSERT(contains(text(parseObject(r), "error"), "If-Match"));
      CPPUNIT_ASSERT_EQUAL(storeEtag(s), r.header("etag"));  // what to read before retrying
    }
    CPPUNIT_ASSERT_EQUAL(before, storeSnapshot(s.db()) + sqlite(s.db(), "SELECT * FROM changes"));
    CPPUNIT_ASSERT_EQUAL(std::string("40"), s.stored(a.url(), "weight"));
    // With the current ETag the same write goes through.
    r = s.request("PATCH", patchPath("/api/", a.url()), R"({"weight":70})",
                  {{"If-Match", storeEtag(s)}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("70"), s.stored(a.url(), "weight"));
    CPPUNIT_ASSERT_EQUAL(storeEtag(s), r.header("etag"));
    // A malformed If-Match is a 400, not a silent pass.
    r = s.request("PATCH", patchPath("/api/", a.url()), R"({"weight":71})", {{"If-Match", "12"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
  }

  void testEveryAnswerCarriesTheRevision() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    ReachablePort a;
    for (const auto& [method, path, body] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"GET", "/endpoints/routes", ""},
             {"POST", "/endpoints/routes",
              R"({"prefixPath":"/a/","targets":[")" + a.url() + "\"]}"},
             {"GET", "/endpoints/list?prefixPath=/a/", ""},
             {"GET", "/endpoints?prefixPath=/a/&target=" + a.url(), ""},
             {"PATCH", patchPath("/a/", a.url()), R"({"state":"draining"})"},
             {"GET", "/endpoints/changes", ""},
             {"POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":[")" + a.url() + "\"]}"},
             {"GET", "/endpoints/list?prefixPath=/zzz/", ""},
             {"POST", "/endpoints/add", "not json"},
             {"DELETE", "/endpoints/list", ""},
             {"DELETE", "/endpoints/routes?prefixPath=/a/", ""},
         }) {
      const auto r = s.request(method, path, body, kJson);
      CPPUNIT_ASSERT_MESSAGE(method + " " + path + " " + std::to_string(r.status), r.status != 0);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(method + " " + path, storeEtag(s), r.header("etag"));
    }
  }

  void testHistoryShowsWhoChangedWhat() {
    TempDir dir;
    ReachablePort seeded;
    const int closed = freePort();  // nothing listens: its first check turns it unhealthy
    Sidecar s(dir, {"--define=health.interval=100ms", "--define=route.web.prefix=/web/",
                    "--define=route.web.targets=" + seeded.url()});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    auto r = s.request("POST", "/endpoints/add",
                       R"({"prefixPath":"/web/","targets":[{"target":")" + localUrl(closed) +
                           R"(","weight":20}]})",
                       kJson);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT(waitUntil([&] { return s.stored(localUrl(closed)) == "0"; }, 5s));
    r = s.request("PATCH", patchPath("/web/", localUrl(closed)), R"({"weight":5})", kJson);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);

    std::int64_t since = 0;
    std::map<std::string, Object::Ptr> byAction;  // the first row of each "action target"
    for (const auto& row : follow(s, since, 100))
      byAction.emplace(text(row, "action") + " " + text(row, "target"), row);
    const auto find = [&](const std::string& key) {
      const auto it = byAction.find(key);
      if (it == byAction.end()) CPPUNIT_FAIL("no '" + key + "' in the history");
      return it->second;
    };
    CPPUNIT_ASSERT_EQUAL(std::string("config"), text(find("route.create "), "actor"));
    CPPUNIT_ASSERT_EQUAL(std::string("config"), text(find("target.add " + seeded.url()), "actor"));
    const auto add = find("target.add " + localUrl(closed));
    CPPUNIT_ASSERT_EQUAL(std::string("api"), text(add, "actor"));
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), text(add, "client"));
    CPPUNIT_ASSERT_EQUAL(20, add->getObject("after")->getValue<int>("weight"));
    const auto down = find("target.health " + localUrl(closed));
    CPPUNIT_ASSERT_EQUAL(std::string("health"), text(down, "actor"));
    // The sidecar that checked: its id (hostname:admin port by default).
    CPPUNIT_ASSERT(!down->isNull("client"));
    CPPUNIT_ASSERT(contains(text(down, "client"), ":"));
    CPPUNIT_ASSERT(!down->getObject("after")->getValue<bool>("healthy"));
    CPPUNIT_ASSERT(contains(text(down->getObject("after"), "error"), "connect"));
    const auto weight = find("target.weight " + localUrl(closed));
    CPPUNIT_ASSERT_EQUAL(std::string("api"), text(weight, "actor"));
    CPPUNIT_ASSERT_EQUAL(20, weight->getObject("before")->getValue<int>("weight"));
    CPPUNIT_ASSERT_EQUAL(5, weight->getObject("after")->getValue<int>("weight"));
    // In order: the add, then the verdict it led to, then the weight change.
    CPPUNIT_ASSERT(add->getValue<std::int64_t>("revision") <
                   down->getValue<std::int64_t>("revision"));
    CPPUNIT_ASSERT(down->getValue<std::int64_t>("revision") <
                   weight->getValue<std::int64_t>("revision"));
    // Filtered by target, only that target's rows.
    r = s.request("GET", "/endpoints/changes?target=" + localUrl(closed));
    const auto rows = parseObject(r)->getArray("changes");
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), rows->size());
    // The documented sqlite3 question: when did this target last go down, and why?
    CPPUNIT_ASSERT(contains(
        sqlite(s.db(), "SELECT time, json_extract(after, '$.error') FROM changes WHERE target = '" +
                           localUrl(closed) +
                           "' AND action = 'target.health' AND json_extract(after, "
                           "'$.healthy') = 0 ORDER BY revision DESC LIMIT 1"),
        "Connection refused"));
  }

  void testSincePagesWithoutGapsOrRepeatsUnderConcurrentWriters() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    std::vector<std::unique_ptr<ReachablePort>> ports;
    std::vector<std::string> urls;
    for (int i = 0; i < 4; ++i) {
      ports.push_back(std::make_unique<ReachablePort>());
      urls.push_back(ports.back()->url());
    }
    s.createRoute("/c/", urls);

    // Three writers change weights and states and add and remove targets, while a reader
    // follows the history in small pages.
    std::atomic<bool> writing{true};
    std::atomic<int> writeErrors{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; i < 40; ++i) {
          const std::string& url = urls[static_cast<std::size_t>(w)];
          HttpResult r;
          switch (i % 4) {
            case 0:
              r = s.request("PATCH", patchPath("/c/", url),
                            "{\"weight\":" + std::to_string(i + 1) + "}", kJson);
              break;
            case 1:
              r = s.request("PATCH", patchPath("/c/", url),
                            i % 8 == 1 ? R"({"state":"draining"})" : R"({"state":"active"})",
                            kJson);
              break;
            case 2:
              r = s.request("POST", "/endpoints/add",
                            R"({"prefixPath":"/c/","targets":["http://127.0.0.1:1/w)" +
                                std::to_string(w) + "\"]}",
                            kJson);
              break;
            default:
              r = s.request("POST", "/endpoints/remove",
                            R"({"prefixPath":"/c/","targets":["http://127.0.0.1:1/w)" +
                                std::to_string(w) + "\"]}",
                            kJson);
          }
          if (r.status != 200) ++writeErrors;
        }
      });
    }
    std::vector<std::string> followed;
    std::int64_t since = 0;
    std::string readError;
    std::thread reader([&] {
      try {
        while (writing) {
          for (const auto& row : follow(s, since, 7)) followed.push_back(line(row));
        }
        for (const auto& row : follow(s, since, 7)) followed.push_back(line(row));
      } catch (const std::exception& e) {
        readError = e.what();  // asserted on the test's thread
      }
    });
    for (auto& w : writers) w.join();
    writing = false;
    reader.join();
    CPPUNIT_ASSERT_EQUAL(std::string(), readError);
    CPPUNIT_ASSERT_EQUAL(0, writeErrors.load());

    // One read of the whole history, after the fact, is what the follower saw: nothing missed,
    // nothing twice, in order.
    std::int64_t from = 0;
    std::vector<std::string> all;
    for (const auto& row : follow(s, from, 1000)) all.push_back(line(row));
    CPPUNIT_ASSERT_EQUAL(std::stoll(sqlite(s.db(), "SELECT count(*) FROM changes")),
                         static_cast<long long>(all.size()));
    CPPUNIT_ASSERT(all.size() > 3 * 40);
    CPPUNIT_ASSERT_EQUAL(all.size(), followed.size());
    for (std::size_t i = 0; i < all.size(); ++i) CPPUNIT_ASSERT_EQUAL(all[i], followed[i]);
    // Every revision since the first write has its rows: the history has no gaps.
    CPPUNIT_ASSERT_EQUAL(sqlite(s.db(), "SELECT value - 1 FROM revision"),
                         sqlite(s.db(), "SELECT count(DISTINCT revision) FROM changes"));
    CPPUNIT_ASSERT_EQUAL(static_cast<long long>(since),
                         std::stoll(sqlite(s.db(), "SELECT value FROM revision")));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TrafficSidecarTest);
