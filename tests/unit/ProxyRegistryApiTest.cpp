// GET /endpoints/proxies, `?wait=` and Portico-Applied-By through AdminApi, without HTTP: the
// proxies' rows are written through a ReadOnly store as a proxy writes them.

#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include "admin/AdminApi.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using portico::AdminApi;
using portico::AdminRequest;
using portico::AdminResponse;
using portico::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::optional<std::string> header(const AdminResponse& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return std::nullopt;
}

Poco::JSON::Object::Ptr json(const AdminResponse& r) {
  return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

const std::string kRoute = R"({"prefixPath":"/a","targets":["http://127.0.0.1:1"]})";

}  // namespace

class ProxyRegistryApiTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyRegistryApiTest);
  CPPUNIT_TEST(testNoProxies);
  CPPUNIT_TEST(testRosterAnswer);
  CPPUNIT_TEST(testWaitIsCheckedBeforeTheWrite);
  CPPUNIT_TEST(testWriteWaitsForTheDurationWhenAProxyLags);
  CPPUNIT_TEST(testEveryWriteEndpointTakesWait);
  CPPUNIT_TEST(testFailedWriteHasNoHeader);
  CPPUNIT_TEST(testRevisionQuery);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<portico::SqliteStore>(dir_->file("p.db"));
    proxy_ = std::make_unique<portico::SqliteStore>(dir_->file("p.db"),
                                                    portico::Store::Access::ReadOnly);
    api_ = std::make_unique<AdminApi>(*store_, "/endpoints", portico::HealthSpec{}, nullptr);
  }
  void tearDown() override {
    api_.reset();
    proxy_.reset();
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

  void report(const std::string& id, std::int64_t revision) {
    portico::ProxyReport r;
    r.id = id;
    r.addresses = {"127.0.0.1:8080"};
    r.version = "test";
    r.startedAtMs = 1714564800123;  // 2024-05-01T12:00:00.123Z
    r.revision = revision;
    proxy_->reportProxy(r);
  }

  void testNoProxies() {
    const auto list = call("GET", "/endpoints/proxies");
    CPPUNIT_ASSERT_EQUAL(200, list.status);
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"revision":1,"proxies":[]})"), list.body);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), list.revision);
    CPPUNIT_ASSERT(!header(list, AdminApi::kAppliedByHeader));
    // Nobody to wait for: a write says so at once, whatever its wait.
    const auto start = std::chrono::steady_clock::now();
    const auto created = call("POST", "/endpoints/routes", kRoute, {{"wait", "10s"}});
    CPPUNIT_ASSERT_EQUAL(201, created.status);
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < 5s);
    CPPUNIT_ASSERT_EQUAL(std::string("0/0"), header(created, AdminApi::kAppliedByHeader).value());
  }

  void testRosterAnswer() {
    report("b:8080", 1);
    report("a:8080", 1);
    const auto list = call("GET", "/endpoints/proxies/");
    CPPUNIT_ASSERT_EQUAL(200, list.status);
    const auto body = json(list);
    CPPUNIT_ASSERT_EQUAL(1, body->getValue<int>("revision"));
    const auto proxies = body->getArray("proxies");
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), proxies->size());
    const auto a = proxies->getObject(0);
    CPPUNIT_ASSERT_EQUAL(std::string("a:8080"), a->getValue<std::string>("id"));
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:8080"),
                         a->getArray("addresses")->getElement<std::string>(0));
    CPPUNIT_ASSERT_EQUAL(std::string("test"), a->getValue<std::string>("version"));
    CPPUNIT_ASSERT_EQUAL(std::string("2024-05-01T12:00:00.123Z"),
                         a->getValue<std::string>("startedAt"));
    CPPUNIT_ASSERT_EQUAL(1, a->getValue<int>("revision"));
    CPPUNIT_ASSERT_EQUAL(std::string("live"), a->getValue<std::string>("state"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(24), a->getValue<std::string>("appliedAt").size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(24), a->getValue<std::string>("lastSeen").size());
    CPPUNIT_ASSERT_EQUAL(std::string("b:8080"), proxies->getObject(1)->getValue<std::string>("id"));
    // Stale after three beats without one; forgotten (not shown) after proxy.forget_after.
    portico::SqliteConnection conn(dir_->file("p.db"), SQLITE_OPEN_READWRITE);
    conn.exec("UPDATE proxies SET last_seen = last_seen - 7000 WHERE id = 'a:8080'");
    conn.exec("UPDATE proxies SET last_seen = last_seen - 4000000 WHERE id = 'b:8080'");
    const auto later = json(call("GET", "/endpoints/proxies"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), later->getArray("proxies")->size());
    CPPUNIT_ASSERT_EQUAL(std::string("stale"),
                         later->getArray("proxies")->getObject(0)->getValue<std::string>("state"));
  }

  void testWaitIsCheckedBeforeTheWrite() {
    for (const auto& [wait, why] : std::vector<std::pair<std::string, std::string>>{
             {"soon", "invalid query parameter 'wait'"},
             {"61s", "is longer than 1m"},
             {"", "invalid query parameter 'wait'"}}) {
      const auto r = call("POST", "/endpoints/routes", kRoute, {{"wait", wait}});
      CPPUNIT_ASSERT_EQUAL_MESSAGE(wait, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find(why) != std::string::npos);
    }
    const auto twice = call("POST", "/endpoints/routes", kRoute, {{"wait", "1s"}, {"wait", "2s"}});
    CPPUNIT_ASSERT_EQUAL(400, twice.status);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), store_->revision());  // nothing written
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/proxies", "", {{"wait", "2m"}}).status);
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/proxies", "", {{"since", "1"}}).status);
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/proxies", "", {{"revision", "x"}}).status);
    // A read does not take wait.
    CPPUNIT_ASSERT_EQUAL(400, call("GET", "/endpoints/routes", "", {{"wait", "1s"}}).status);
  }

  void testWriteWaitsForTheDurationWhenAProxyLags() {
    report("p:1", 1);  // serves revision 1 and never applies the write
    const auto start = std::chrono::steady_clock::now();
    const auto created = call("POST", "/endpoints/routes", kRoute, {{"wait", "300ms"}});
    const auto took = std::chrono::steady_clock::now() - start;
    CPPUNIT_ASSERT_EQUAL(201, created.status);  // committed: the status is the write's own
    CPPUNIT_ASSERT(took >= 300ms);
    CPPUNIT_ASSERT_EQUAL(std::string("0/1"), header(created, AdminApi::kAppliedByHeader).value());
    CPPUNIT_ASSERT(store_->findRoute("/a/"));
    // Without wait the header says how many serve it at answer time.
    report("p:1", created.revision);
    const auto added =
        call("POST", "/endpoints/add", R"({"prefixPath":"/a","targets":["http://127.0.0.1:2"]})");
    CPPUNIT_ASSERT_EQUAL(200, added.status);
    CPPUNIT_ASSERT_EQUAL(std::string("0/1"), header(added, AdminApi::kAppliedByHeader).value());
  }

  void testEveryWriteEndpointTakesWait() {
    report("p:1", 100);  // ahead of every write below: each is served at once
    const std::vector<std::pair<std::string, std::string>> wait{{"wait", "5s"}};
    auto target = wait;
    target.emplace_back("prefixPath", "/a");
    target.emplace_back("target", "http://127.0.0.1:1");
    auto prefix = wait;
    prefix.emplace_back("prefixPath", "/a");
    const std::vector<AdminResponse> answers{
        call("POST", "/endpoints/routes", kRoute, wait),
        call("POST", "/endpoints/add", R"({"prefixPath":"/a","targets":["http://127.0.0.1:2"]})",
             wait),
        call("PATCH", "/endpoints", R"({"weight":5})", target),
        call("POST", "/endpoints/remove", R"({"prefixPath":"/a","targets":["http://127.0.0.1:2"]})",
             wait),
        call("DELETE", "/endpoints/routes", "", prefix)};
    for (const auto& a : answers) {
      CPPUNIT_ASSERT_MESSAGE(a.body, a.status == 200 || a.status == 201);
      CPPUNIT_ASSERT_EQUAL(std::string("1/1"), header(a, AdminApi::kAppliedByHeader).value());
    }
  }

  void testFailedWriteHasNoHeader() {
    CPPUNIT_ASSERT_EQUAL(201, call("POST", "/endpoints/routes", kRoute).status);
    const auto again = call("POST", "/endpoints/routes", kRoute, {{"wait", "5s"}});
    CPPUNIT_ASSERT_EQUAL(409, again.status);
    CPPUNIT_ASSERT(!header(again, AdminApi::kAppliedByHeader));
  }

  void testRevisionQuery() {
    report("p:1", 1);
    report("p:2", 2);
    const auto one = call("GET", "/endpoints/proxies", "", {{"revision", "1"}});
    CPPUNIT_ASSERT_EQUAL(200, one.status);
    CPPUNIT_ASSERT_EQUAL(std::string("2/2"), header(one, AdminApi::kAppliedByHeader).value());
    const auto start = std::chrono::steady_clock::now();
    const auto two = call("GET", "/endpoints/proxies", "", {{"revision", "2"}, {"wait", "200ms"}});
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start >= 200ms);
    CPPUNIT_ASSERT_EQUAL(std::string("1/2"), header(two, AdminApi::kAppliedByHeader).value());
  }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<portico::SqliteStore> store_;
  std::unique_ptr<portico::SqliteStore> proxy_;
  std::unique_ptr<AdminApi> api_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyRegistryApiTest);
