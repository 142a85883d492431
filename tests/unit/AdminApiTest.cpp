// AdminApi without HTTP: request validation, the healthCheck forms, change notifications.

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <tuple>

#include "admin/AdminApi.h"
#include "admin/AdminInput.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using portico::AdminApi;
using portico::AdminRequest;
using portico::AdminResponse;
using portico::test::sqlite;
using portico::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

/// The admin API over a temp store.
class AdminApiTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AdminApiTest);
  CPPUNIT_TEST(testChangeNotifications);
  CPPUNIT_TEST(testNanosecondDurations);
  CPPUNIT_TEST(testValidationBeforeLookup);
  CPPUNIT_TEST(testPathsAndQuery);
  CPPUNIT_TEST(testBusyStoreIs503);
  CPPUNIT_TEST(testTargetsWithWeights);
  CPPUNIT_TEST(testPatchTarget);
  CPPUNIT_TEST(testPatchRoute);
  CPPUNIT_TEST(testSlowStartField);
  CPPUNIT_TEST(testEveryAnswerCarriesItsRevision);
  CPPUNIT_TEST(testIfMatch);
  CPPUNIT_TEST(testChangesQuery);
  CPPUNIT_TEST(testPagedLists);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<portico::SqliteStore>(dir_->file("p.db"));
    changes_ = 0;
    api_ = std::make_unique<AdminApi>(*store_, "/endpoints", portico::HealthSpec{},
                                      [this] { ++changes_; });
  }
  void tearDown() override {
    api_.reset();
    store_.reset();
    dir_.reset();
  }

  AdminResponse call(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     std::vector<std::pair<std::string, std::string>> query = {},
                     std::optional<std::string> ifMatch = std::nullopt) {
    AdminRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    request.client = "192.0.2.7";
    request.ifMatch = std::move(ifMatch);
    return api_->handle(request);
  }

  /// limit and after page GET /routes (by prefix) and GET /list (by stored order); `next`
  /// chains the pages; without them the answers are whole.
  void testPagedLists() {
    for (const char* p : {"/c/", "/a/", "/e/", "/b/", "/d/"})
      CPPUNIT_ASSERT_EQUAL(201, call("POST", "/endpoints/routes",
                                     std::string(R"({"prefixPath":")") + p +
                                         R"(","targets":["http://z:1","http://y:1","http://x:1"]})")
                                    .status);
    std::string seen;
    std::string after;
    int pages = 0;
    for (;;) {
      std::vector<std::pair<std::string, std::string>> q{{"limit", "2"}};
      if (!after.empty()) q.emplace_back("after", after);
      const auto r = call("GET", "/endpoints/routes", "", q);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
      const auto o = portico::parseJsonObject(r.body);
      const auto routes = o->getArray("routes");
      for (std::size_t i = 0; i < routes->size(); ++i)
        seen += routes->getObject(static_cast<unsigned>(i))->getValue<std::string>("prefixPath");
      ++pages;
      if (!o->has("next")) break;
      after = o->getValue<std::string>("next");
    }
    CPPUNIT_ASSERT_EQUAL(std::string("/a//b//c//d//e/"), seen);
    CPPUNIT_ASSERT_EQUAL(3, pages);
    // Unpaged: everything, no `next`.
    const auto whole = call("GET", "/endpoints/routes");
    CPPUNIT_ASSERT(!contains(whole.body, "\"next\""));
    // `after` is normalised and need not exist.
    CPPUNIT_ASSERT(contains(call("GET", "/endpoints/routes", "", {{"after", "cc"}}).body,
                            R"({"routes":[{"prefixPath":"/d/")"));
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/routes", "", {{"limit", "0"}}).status);
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/routes", "", {{"limit", "10001"}}).status);
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/routes", "", {{"limit", "x"}}).status);

    // Targets of one route, in stored order.
    auto r = call("GET", "/endpoints/list", "", {{"prefixPath", "/a/"}, {"limit", "2"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT(contains(r.body, R"("target":"http://z:1")"));
    CPPUNIT_ASSERT(contains(r.body, R"("target":"http://y:1")"));
    CPPUNIT_ASSERT(!contains(r.body, R"("target":"http://x:1")"));
    CPPUNIT_ASSERT(contains(r.body, R"("next":"http://y:1")"));
    r = call("GET", "/endpoints/list", "",
             {{"prefixPath", "/a/"}, {"limit", "2"}, {"after", "http://y:1"}});
    CPPUNIT_ASSERT(contains(r.body, R"("targets":[{"target":"http://x:1")"));
    CPPUNIT_ASSERT(!contains(r.body, "\"next\""));
    CPPUNIT_ASSERT_EQUAL(
        400, call("GET", "/endpoints/list", "", {{"prefixPath", "/a/"}, {"after", "http://q:1"}})
                 .status);
  }

  void testChangeNotifications() {
    CPPUNIT_ASSERT_EQUAL(201, call("POST", "/endpoints/routes", R"({"prefixPath":"/a/"})").status);
    CPPUNIT_ASSERT_EQUAL(1, changes_);
    CPPUNIT_ASSERT_EQUAL(409, call("POST", "/endpoints/routes", R"({"prefixPath":"/a/"})").status);
    CPPUNIT_ASSERT_EQUAL(400, call("POST", "/endpoints/add", R"({"prefixPath":"/a/"})").status);
    CPPUNIT_ASSERT_EQUAL(
        404,
        call("POST", "/endpoints/add", R"({"prefixPath":"/b/","targets":["http://h"]})").status);
    CPPUNIT_ASSERT_EQUAL(200, call("GET", "/endpoints/routes").status);
    CPPUNIT_ASSERT_EQUAL(1, changes_);  // failures and reads notify nothing
    CPPUNIT_ASSERT_EQUAL(
        200,
        call("POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":["http://h"]})").status);
    CPPUNIT_ASSERT_EQUAL(
        200,
        call("POST", "/endpoints/remove", R"({"prefixPath":"/a/","targets":["http://h"]})").status);
    CPPUNIT_ASSERT_EQUAL(200,
                         call("DELETE", "/endpoints/routes", "", {{"prefixPath", "a"}}).status);
    CPPUNIT_ASSERT_EQUAL(4, changes_);
  }

  void testNanosecondDurations() {
    const std::string cols = "SELECT health_interval_ms, health_timeout_ms FROM routes";
    auto r = call("POST", "/endpoints/routes",
                  R"({"prefixPath":"/a/","healthCheck":{"interval":12500000,"timeout":2.5e9}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("13|2500"),
                         sqlite(dir_->file("p.db"), cols));  // rounded to ms
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("interval":"13ms","timeout":"2500ms")"));
    // null means "not given": the current values stay.
    r = call(
        "POST", "/endpoints/add",
        R"({"prefixPath":"/a/","targets":["http://h"],"healthCheck":{"interval":null,"timeout":"1s"}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("13|1000"), sqlite(dir_->file("p.db"), cols));
    for (const char* bad :
         {R"("interval":9000000)", R"("interval":-1e9)", R"("interval":1e300)",
          R"("interval":true)", R"("interval":[1])", R"("timeout":"")", R"("timeout":100000)",
          R"("fall":1.5)", R"("rise":"2")", R"("rise":1001)"}) {
      r = call("POST", "/endpoints/add",
               std::string(R"({"prefixPath":"/a/","targets":["http://h"],"healthCheck":{)") + bad +
                   "}}");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(bad + std::string(" -> ") + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "healthCheck"));
    }
    CPPUNIT_ASSERT_EQUAL(std::string("13|1000"), sqlite(dir_->file("p.db"), cols));
  }

  void testValidationBeforeLookup() {
    // A bad field is reported as such even when the route is unknown too.
    auto r = call("POST", "/endpoints/add",
                  R"({"prefixPath":"/nope/","targets":["http://h"],"healthCheck":{"fall":0}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    r = call("POST", "/endpoints/add", R"({"prefixPath":"/nope/","targets":["http://h"],"x":1})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "unknown field 'x'"));
    r = call("POST", "/endpoints/add", R"({"prefixPath":"/nope/","targets":["http://h"]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 404, r.status);
    // Explicit nulls are absent values: a required one is missing.
    r = call("POST", "/endpoints/add", R"({"prefixPath":null,"targets":["http://h"]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "missing field 'prefixPath'"));
  }

  void testPathsAndQuery() {
    CPPUNIT_ASSERT_EQUAL(
        201, call("POST", "/endpoints/routes/", R"({"prefixPath":"/a/","targets":["http://h"]})")
                 .status);
    CPPUNIT_ASSERT_EQUAL(200, call("HEAD", "/endpoints/list", "", {{"prefixPath", "/a/"}}).status);
    CPPUNIT_ASSERT_EQUAL(
        200, call("GET", "/endpoints/", "", {{"prefixPath", "a"}, {"target", "HTTP://H/"}}).status);
    auto r = call("GET", "/endpoints/list", "", {{"prefixPath", "/a/"}, {"prefixPath", "/b/"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    r = call("PUT", "/endpoints/routes");
    CPPUNIT_ASSERT_EQUAL(405, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, POST, DELETE, PATCH"), r.allow);
    CPPUNIT_ASSERT_EQUAL(404, call("GET", "/endpointsx/list").status);
    CPPUNIT_ASSERT_EQUAL(404, call("GET", "/other/endpoints/list").status);
  }

  void testBusyStoreIs503() {
    CPPUNIT_ASSERT_EQUAL(201, call("POST", "/endpoints/routes", R"({"prefixPath":"/a/"})").status);
    const int changes = changes_;
    {
      // An operator's sqlite3 session keeps the write lock past the busy timeout.
      portico::SqliteConnection other(dir_->file("p.db"), SQLITE_OPEN_READWRITE);
      other.exec("BEGIN IMMEDIATE");
      auto r = call("POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":["http://h"]})");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 503, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"({"error":"store busy)"));
      other.exec("ROLLBACK");
    }
    CPPUNIT_ASSERT_EQUAL(changes, changes_);  // nothing written, nothing notified
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(dir_->file("p.db"), "SELECT count(*) FROM targets"));
    CPPUNIT_ASSERT_EQUAL(
        200,
        call("POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":["http://h"]})").status);
  }

  void testTargetsWithWeights() {
    auto r = call(
        "POST", "/endpoints/routes",
        R"({"prefixPath":"/a/","targets":[{"target":"http://h:1","weight":30},"http://h:2",{"target":"http://h:3"}]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    CPPUNIT_ASSERT_EQUAL(
        std::string("http://h:1|30|active\nhttp://h:2|100|active\nhttp://h:3|100|active"),
        sqlite(dir_->file("p.db"), "SELECT url, weight, state FROM targets ORDER BY id"));
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("weight":30,"state":"active")"));
    r = call("POST", "/endpoints/add",
             R"({"prefixPath":"/a/","targets":[{"target":"HTTP://H:4/","weight":0}]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(
        std::string("0"),
        sqlite(dir_->file("p.db"), "SELECT weight FROM targets WHERE url = 'http://h:4'"));
    const std::vector<std::pair<std::string, std::string>> bad = {
        {R"([{"target":1}])", "targets[0].target"},
        {R"([{"weight":5}])", "targets[0].target"},
        {R"(["http://h:5",{"target":"http://h:6","weight":1001}])", "targets[1].weight"},
        {R"([{"target":"http://h:6","weight":-1}])", "targets[0].weight"},
        {R"([{"target":"http://h:6","weight":1.5}])", "targets[0].weight"},
        {R"([{"target":"http://h:6","weight":"5"}])", "targets[0].weight"},
        {R"([{"target":"http://h:6","weight":true}])", "targets[0].weight"},
        {R"([{"target":"http://h:6","state":"draining"}])", "targets[0].state"},
        {R"([{"target":"ftp://h:6"}])", "targets[0].target"},
        {R"([5])", "targets[0]"},
        {R"([["http://h:6"]])", "targets[0]"},
    };
    const std::string before = sqlite(dir_->file("p.db"), "SELECT * FROM targets");
    for (const auto& [targets, field] : bad) {
      r = call("POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":)" + targets + "}");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(targets + " -> " + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(targets + " -> " + r.body, contains(r.body, "'" + field));
    }
    CPPUNIT_ASSERT_EQUAL(before, sqlite(dir_->file("p.db"), "SELECT * FROM targets"));
  }

  void testPatchRoute() {
    CPPUNIT_ASSERT_EQUAL(
        201, call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","targets":["http://h:1"]})")
                 .status);
    const std::vector<std::pair<std::string, std::string>> at = {{"prefixPath", "a"}};
    const std::string db = dir_->file("p.db");
    auto r = call("PATCH", "/endpoints/routes", R"({"balancer":"least_conn",
        "healthCheck":{"type":"http","path":"/up"}})",
                  at);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_MESSAGE(
        r.body, contains(r.body, R"("prefixPath":"/a/","host":"","balancer":"least_conn")"));
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("type":"http","path":"/up")"));
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("targets":[{"target":"http://h:1")"));
    // One history row holds the fields that changed, before and after; the rest keep theirs.
    CPPUNIT_ASSERT_EQUAL(
        std::string(
            "route.update|/a/|{\"balancer\":\"round_robin\",\"healthCheck\":{\"interval\":\"5s\","
            "\"timeout\":\"3s\",\"type\":\"tcp\",\"path\":\"/\",\"fall\":1,\"rise\":1,"
            "\"slowStart\":\"0ms\"}}|{\"balancer\":\"least_conn\",\"healthCheck\":{\"interval\":"
            "\"5s\",\"timeout\":\"3s\",\"type\":\"http\",\"path\":\"/up\",\"fall\":1,\"rise\":1,"
            "\"slowStart\":\"0ms\"}}"),
        sqlite(db,
               "SELECT action, route, before, after FROM changes WHERE action = 'route.update'"));
    const std::string revision = sqlite(db, "SELECT value FROM revision");
    // The same values again change nothing: no revision, no row.
    r = call("PATCH", "/endpoints/routes", R"({"balancer":"least_conn"})", at);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(revision, sqlite(db, "SELECT value FROM revision"));
    const std::vector<
        std::tuple<std::string, std::vector<std::pair<std::string, std::string>>, int, std::string>>
        bad = {
            {R"({})", at, 400, "nothing to change"},
            {R"({"balancer":null})", at, 400, "nothing to change"},
            {R"({"balancer":"random"})", at, 400, "'balancer'"},
            {R"({"healthCheck":{"fall":0}})", at, 400, "'healthCheck.fall'"},
            {R"({"prefixPath":"/b/"})", at, 400, "unknown field 'prefixPath'"},
            {R"({"targets":[]})", at, 400, "unknown field 'targets'"},
            {R"({"balancer":"ip_hash"})", {}, 400, "'prefixPath'"},
            {R"({"balancer":"ip_hash"})", {{"prefixPath", "/b/"}}, 404, "/b/"},
        };
    for (const auto& [body, query, status, error] : bad) {
      r = call("PATCH", "/endpoints/routes", body, query);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(body + " -> " + r.body, status, r.status);
      CPPUNIT_ASSERT_MESSAGE(body + " -> " + r.body, contains(r.body, error));
    }
    CPPUNIT_ASSERT_EQUAL(revision, sqlite(db, "SELECT value FROM revision"));
  }

  void testPatchTarget() {
    CPPUNIT_ASSERT_EQUAL(
        201, call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","targets":["http://h:1"]})")
                 .status);
    const int notified = changes_;
    const std::vector<std::pair<std::string, std::string>> at = {{"prefixPath", "a"},
                                                                 {"target", "http://H:1/"}};
    auto r = call("PATCH", "/endpoints", R"({"weight":50,"state":"draining"})", at);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"({"target":"http://h:1","healthy":true,)"));
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("weight":50,"state":"draining")"));
    CPPUNIT_ASSERT_EQUAL(notified + 1, changes_);
    r = call("PATCH", "/endpoints", R"({"state":"active"})", at);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("weight":50,"state":"active")"));

    const std::string before =
        sqlite(dir_->file("p.db"), "SELECT * FROM targets; SELECT * FROM revision");
    const std::vector<
        std::tuple<std::string, std::vector<std::pair<std::string, std::string>>, int, std::string>>
        bad = {
            {R"({})", at, 400, "nothing to change"},
            {R"({"weight":1001})", at, 400, "'weight'"},
            {R"({"weight":"5"})", at, 400, "'weight'"},
            {R"({"weight":null,"state":null})", at, 400, "nothing to change"},
            {R"({"state":"off"})", at, 400, "'state'"},
            {R"({"state":1})", at, 400, "'state'"},
            {R"({"healthy":false})", at, 400, "unknown field 'healthy'"},
            {R"([1])", at, 400, "JSON object"},
            {"", at, 400, "empty"},
            {R"({"weight":1})", {{"prefixPath", "/a/"}}, 400, "'target'"},
            {R"({"weight":1})", {{"prefixPath", "/b/"}, {"target", "http://h:1"}}, 404, "/b/"},
            {R"({"weight":1})",
             {{"prefixPath", "/a/"}, {"target", "http://h:2"}},
             404,
             "http://h:2"},
        };
    for (const auto& [body, query, status, error] : bad) {
      r = call("PATCH", "/endpoints", body, query);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(body + " -> " + r.body, status, r.status);
      CPPUNIT_ASSERT_MESSAGE(body + " -> " + r.body, contains(r.body, error));
    }
    CPPUNIT_ASSERT_EQUAL(
        before, sqlite(dir_->file("p.db"), "SELECT * FROM targets; SELECT * FROM revision"));
    r = call("PUT", "/endpoints", R"({"weight":1})", at);
    CPPUNIT_ASSERT_EQUAL(405, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, PATCH"), r.allow);
  }

  void testSlowStartField() {
    auto r = call("POST", "/endpoints/routes",
                  R"({"prefixPath":"/a/","healthCheck":{"slowStart":"30s"}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("rise":1,"slowStart":"30s"})"));
    r = call("POST", "/endpoints/add",
             R"({"prefixPath":"/a/","targets":["http://h"],"healthCheck":{"slowStart":1.5e9}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1500"),
                         sqlite(dir_->file("p.db"), "SELECT slow_start_ms FROM routes"));
    for (const char* bad : {R"("-1s")", R"("soon")", R"(true)", R"(-5)"}) {
      r = call(
          "POST", "/endpoints/add",
          std::string(R"({"prefixPath":"/a/","targets":["http://h"],"healthCheck":{"slowStart":)") +
              bad + "}}");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(bad + std::string(" -> ") + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "healthCheck.slowStart"));
    }
    r = call("POST", "/endpoints/add",
             R"({"prefixPath":"/a/","targets":["http://h"],"healthCheck":{"slowStart":"0s"}})");
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(dir_->file("p.db"), "SELECT slow_start_ms FROM routes"));
  }

  void testEveryAnswerCarriesItsRevision() {
    auto r = call("GET", "/endpoints/routes");
    CPPUNIT_ASSERT_EQUAL(store_->revision(), r.revision);
    r = call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","targets":["http://h:1"]})");
    CPPUNIT_ASSERT_EQUAL(store_->revision(), r.revision);
    const auto created = r.revision;
    // Reads, errors and answers that changed nothing reflect the store as it is.
    for (const auto& answer :
         {call("GET", "/endpoints/list", "", {{"prefixPath", "/a/"}}),
          call("GET", "/endpoints", "", {{"prefixPath", "/a/"}, {"target", "http://h:1"}}),
          call("GET", "/endpoints/changes"),
          call("POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":["http://h:1"]})"),
          call("GET", "/endpoints/list", "", {{"prefixPath", "/b/"}}),
          call("POST", "/endpoints/add", "{"), call("PUT", "/endpoints/routes"),
          call("GET", "/nowhere")}) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.body, created, answer.revision);
    }
    r = call("DELETE", "/endpoints/routes", "", {{"prefixPath", "/a/"}});
    CPPUNIT_ASSERT_EQUAL(created + 1, r.revision);
  }

  void testIfMatch() {
    call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","targets":["http://h:1"]})");
    const auto rev = store_->revision();
    const std::string db = dir_->file("p.db");
    const auto snapshot = [&] {
      return sqlite(db,
                    "SELECT * FROM routes; SELECT * FROM targets; SELECT * FROM revision; "
                    "SELECT * FROM changes");
    };
    const std::string before = snapshot();
    const int notified = changes_;
    const std::string stale = "\"" + std::to_string(rev - 1) + "\"";
    const std::vector<std::tuple<std::string, std::string, std::string,
                                 std::vector<std::pair<std::string, std::string>>>>
        writes = {
            {"POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":["http://h:2"]})", {}},
            {"POST", "/endpoints/remove", R"({"prefixPath":"/a/","targets":["http://h:1"]})", {}},
            {"POST", "/endpoints/routes", R"({"prefixPath":"/b/"})", {}},
            {"DELETE", "/endpoints/routes", "", {{"prefixPath", "/a/"}}},
            {"PATCH",
             "/endpoints",
             R"({"weight":5})",
             {{"prefixPath", "/a/"}, {"target", "http://h:1"}}},
        };
    for (const auto& [method, path, body, query] : writes) {
      auto r = call(method, path, body, query, stale);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(method + " " + path + " -> " + r.body, 412, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "revision " + std::to_string(rev)));
      CPPUNIT_ASSERT_EQUAL(rev, r.revision);  // the ETag to retry with
      r = call(method, path, body, query, std::string("12"));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "If-Match"));
    }
    CPPUNIT_ASSERT_EQUAL(before, snapshot());
    CPPUNIT_ASSERT_EQUAL(notified, changes_);
    // The current revision, or *, lets a write through; reads ignore If-Match.
    auto r =
        call("PATCH", "/endpoints", R"({"weight":5})",
             {{"prefixPath", "/a/"}, {"target", "http://h:1"}}, "\"" + std::to_string(rev) + "\"");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(rev + 1, r.revision);
    r = call("PATCH", "/endpoints", R"({"weight":6})",
             {{"prefixPath", "/a/"}, {"target", "http://h:1"}}, std::string("*"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(200, call("GET", "/endpoints/routes", "", {}, stale).status);
  }

  void testChangesQuery() {
    call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","targets":["http://h:1"]})");
    call("PATCH", "/endpoints", R"({"weight":5})",
         {{"prefixPath", "/a/"}, {"target", "http://h:1"}});
    auto r = call("GET", "/endpoints/changes", "", {{"since", "0"}, {"limit", "1000"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"({"changes":[{"revision":2,"time":")"));
    CPPUNIT_ASSERT_MESSAGE(
        r.body,
        contains(
            r.body,
            R"("actor":"api","client":"192.0.2.7","action":"target.weight","route":"/a/","target":"http://h:1","before":{"weight":100},"after":{"weight":5}}],"nextSince":3})"));
    r = call("GET", "/endpoints/changes", "",
             {{"since", "2"}, {"route", "a"}, {"target", "HTTP://H:1"}});
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("action":"target.weight")"));
    CPPUNIT_ASSERT_MESSAGE(r.body, !contains(r.body, R"("action":"target.add")"));
    const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>>
        bad = {
            {{{"since", "-1"}}, "since"},   {{{"since", "x"}}, "since"},
            {{{"since", ""}}, "since"},     {{{"limit", "0"}}, "limit"},
            {{{"limit", "1001"}}, "limit"}, {{{"limit", "1e3"}}, "limit"},
            {{{"route", "a b"}}, "route"},  {{{"target", "ftp://x"}}, "target"},
            {{{"after", "1"}}, "after"},    {{{"since", "1"}, {"since", "2"}}, "since"},
        };
    for (const auto& [query, name] : bad) {
      r = call("GET", "/endpoints/changes", "", query);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(name + " -> " + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, "'" + name + "'"));
    }
    r = call("POST", "/endpoints/changes", "{}");
    CPPUNIT_ASSERT_EQUAL(405, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD"), r.allow);
  }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<portico::Store> store_;
  std::unique_ptr<AdminApi> api_;
  int changes_{0};
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminApiTest);
