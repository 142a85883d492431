// AdminApi without HTTP: request validation, the healthCheck forms, change notifications.

#include <cppunit/extensions/HelperMacros.h>

#include "AdminApi.h"
#include "Sqlite.h"
#include "Store.h"
#include "TestSupport.h"

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
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<portico::Store>(dir_->file("p.db"));
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
                     std::vector<std::pair<std::string, std::string>> query = {}) {
    AdminRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    request.client = "192.0.2.7";
    return api_->handle(request);
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
    r = call("PATCH", "/endpoints/routes");
    CPPUNIT_ASSERT_EQUAL(405, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, POST, DELETE"), r.allow);
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

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<portico::Store> store_;
  std::unique_ptr<AdminApi> api_;
  int changes_{0};
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminApiTest);
