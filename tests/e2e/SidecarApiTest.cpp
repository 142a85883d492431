// End-to-end tests of the admin API: the real portico-sidecar on 127.0.0.1, a temp store.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include "e2e/SidecarHarness.h"
#include "support/TestSupport.h"

using namespace portico::test;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

void expectJsonAnswer(const HttpResult& r, int status, const std::string& what) {
  CPPUNIT_ASSERT_EQUAL_MESSAGE(what + " -> " + r.body + r.error, status, r.status);
  CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("application/json"), r.header("content-type"));
  parseObject(r);
  // Every answer of the API says which store revision it reflects, except a 401 (nothing
  // about the store for a client without the token).
  if (status != 401)
    CPPUNIT_ASSERT_MESSAGE(what + ": ETag " + r.header("etag"),
                           r.header("etag").size() > 2 && r.header("etag").front() == '"');
}

std::string str(const Object::Ptr& o, const std::string& key) {
  return o->getValue<std::string>(key);
}

}  // namespace

/// Every endpoint and every error status of the admin API, against the real binary.
class SidecarApiTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SidecarApiTest);
  CPPUNIT_TEST(testEveryEndpoint);
  CPPUNIT_TEST(testPrefixNormalisation);
  CPPUNIT_TEST(testHealthCheckForms);
  CPPUNIT_TEST(testRejectedRequestsChangeNothing);
  CPPUNIT_TEST(testBodyLimit);
  CPPUNIT_TEST(testBearerToken);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEveryEndpoint() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());

    auto r = s.request("GET", "/endpoints/routes");
    expectJsonAnswer(r, 200, "empty routes");
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), parseObject(r)->getArray("routes")->size());

    // Create: duplicates in the request collapse; URLs are stored canonical.
    r = s.request("POST", "/endpoints/routes",
                  R"({"prefixPath":"/api/","targets":["http://127.0.0.1:1","HTTP://127.0.0.1:1/",)"
                  R"("http://127.0.0.1:2/base/"],"balancer":"least_conn"})");
    expectJsonAnswer(r, 201, "create");
    auto route = parseObject(r);
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), str(route, "prefixPath"));
    CPPUNIT_ASSERT_EQUAL(std::string("least_conn"), str(route, "balancer"));
    auto hc = route->getObject("healthCheck");
    CPPUNIT_ASSERT_EQUAL(std::string("5s"), str(hc, "interval"));
    CPPUNIT_ASSERT_EQUAL(std::string("3s"), str(hc, "timeout"));
    CPPUNIT_ASSERT_EQUAL(std::string("tcp"), str(hc, "type"));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), str(hc, "path"));
    CPPUNIT_ASSERT_EQUAL(1, hc->getValue<int>("fall"));
    CPPUNIT_ASSERT_EQUAL(1, hc->getValue<int>("rise"));
    auto targets = route->getArray("targets");
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), targets->size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:1"), str(targets->getObject(0), "target"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:2/base"),
                         str(targets->getObject(1), "target"));
    CPPUNIT_ASSERT(targets->getObject(0)->get("healthy").isBoolean());
    for (const char* key : {"lastCheckedAt", "lastChangedAt", "lastError"})
      CPPUNIT_ASSERT_MESSAGE(key, targets->getObject(0)->has(key));
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:1\nhttp://127.0.0.1:2/base"),
                         sqlite(s.db(), "SELECT url FROM targets ORDER BY id"));

    // A route with no targets and the default balancer.
    r = s.request("POST", "/endpoints/routes", R"({"prefixPath":"/empty/"})");
    expectJsonAnswer(r, 201, "create empty");
    CPPUNIT_ASSERT_EQUAL(std::string("round_robin"), str(parseObject(r), "balancer"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), parseObject(r)->getArray("targets")->size());

    // Add: one new, one already present (skipped, not counted), one duplicate in the request.
    r = s.request("POST", "/endpoints/add",
                  R"({"prefixPath":"/api/","targets":["http://127.0.0.1:3","http://127.0.0.1:1",)"
                  R"("http://127.0.0.1:3/"]})");
    expectJsonAnswer(r, 200, "add");
    CPPUNIT_ASSERT_EQUAL(1, parseObject(r)->getValue<int>("addedCount"));
    CPPUNIT_ASSERT(!str(parseObject(r), "message").empty());

    // List one route.
    r = s.request("GET", "/endpoints/list?prefixPath=/api/");
    expectJsonAnswer(r, 200, "list");
    route = parseObject(r);
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), str(route, "prefixPath"));
    targets = route->getArray("targets");
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), targets->size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:3"), str(targets->getObject(2), "target"));
    CPPUNIT_ASSERT(targets->getObject(2)->get("healthy").isBoolean());

    // Get one target; the query's URL is canonicalised like stored ones.
    r = s.request("GET", "/endpoints?prefixPath=/api/&target=http://127.0.0.1:2/base/");
    expectJsonAnswer(r, 200, "get target");
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:2/base"), str(parseObject(r), "target"));
    CPPUNIT_ASSERT(parseObject(r)->get("healthy").isBoolean());

    // Remove: one present, one absent (not counted).
    r = s.request(
        "POST", "/endpoints/remove",
        R"({"prefixPath":"/api/","targets":["http://127.0.0.1:1","http://127.0.0.1:9"]})");
    expectJsonAnswer(r, 200, "remove");
    CPPUNIT_ASSERT_EQUAL(1, parseObject(r)->getValue<int>("removedCount"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:2/base\nhttp://127.0.0.1:3"),
                         sqlite(s.db(), "SELECT url FROM targets ORDER BY id"));
    r = s.request("GET", "/endpoints?prefixPath=/api/&target=http://127.0.0.1:1");
    expectJsonAnswer(r, 404, "get removed target");

    // All routes.
    r = s.request("GET", "/endpoints/routes");
    expectJsonAnswer(r, 200, "routes");
    auto routes = parseObject(r)->getArray("routes");
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), routes->size());
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), str(routes->getObject(0), "prefixPath"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), routes->getObject(0)->getArray("targets")->size());
    CPPUNIT_ASSERT_EQUAL(std::string("/empty/"), str(routes->getObject(1), "prefixPath"));

    // Delete, then it is gone (with its targets).
    r = s.request("DELETE", "/endpoints/routes?prefixPath=/api/");
    expectJsonAnswer(r, 200, "delete");
    CPPUNIT_ASSERT(!str(parseObject(r), "message").empty());
    expectJsonAnswer(s.request("GET", "/endpoints/list?prefixPath=/api/"), 404, "list deleted");
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite(s.db(), "SELECT count(*) FROM targets"));
    expectJsonAnswer(s.request("DELETE", "/endpoints/routes?prefixPath=/api/"), 404,
                     "delete again");

    // One change is logged per write.
    const std::string log = s.process().log();
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, "created route /api/"));
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, "added 1 target to /api/"));
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, "removed 1 target from /api/"));
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, "deleted route /api/"));
    CPPUNIT_ASSERT_MESSAGE(
        log, contains(log, "listening on http://127.0.0.1:" + std::to_string(s.port())));
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, s.db()));
  }

  void testPrefixNormalisation() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    expectJsonAnswer(s.request("POST", "/endpoints/routes", R"({"prefixPath":"api"})"), 201,
                     "create api");
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), sqlite(s.db(), "SELECT prefix FROM routes"));
    for (const char* spelling : {"api", "/api", "/api/"}) {
      const std::string p = spelling;
      expectJsonAnswer(s.request("POST", "/endpoints/routes", R"({"prefixPath":")" + p + R"("})"),
                       409, "create " + p);
      auto r = s.request("POST", "/endpoints/add",
                         R"({"prefixPath":")" + p + R"(","targets":["http://127.0.0.1:1)" +
                             std::to_string(p.size()) + R"("]})");
      expectJsonAnswer(r, 200, "add " + p);
      CPPUNIT_ASSERT_EQUAL(1, parseObject(r)->getValue<int>("addedCount"));
      r = s.request("GET", "/endpoints/list?prefixPath=" + p);
      expectJsonAnswer(r, 200, "list " + p);
      CPPUNIT_ASSERT_EQUAL(std::string("/api/"), str(parseObject(r), "prefixPath"));
      expectJsonAnswer(
          s.request("GET", "/endpoints?prefixPath=" + p + "&target=http://127.0.0.1:13"), 200,
          "get " + p);
    }
    CPPUNIT_ASSERT_EQUAL(std::string("1|3"), sqlite(s.db(),
                                                    "SELECT (SELECT count(*) FROM routes), "
                                                    "(SELECT count(*) FROM targets)"));
    expectJsonAnswer(s.request("DELETE", "/endpoints/routes?prefixPath=api"), 200, "delete api");
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite(s.db(), "SELECT count(*) FROM routes"));
  }

  void testHealthCheckForms() {
    TempDir dir;
    Sidecar s(dir, {"--define=health.interval=7s", "--define=health.fall=2"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    const std::string cols =
        "SELECT health_interval_ms, health_timeout_ms, health_type, health_path, health_fall, "
        "health_rise FROM routes WHERE prefix = '/h/'";

    // Create: given fields, the rest from the health.* settings; numbers are nanoseconds.
    auto r = s.request("POST", "/endpoints/routes",
                       R"({"prefixPath":"/h/","healthCheck":{"timeout":1500000000,"type":"http",)"
                       R"("path":"/healthz","rise":3}})");
    expectJsonAnswer(r, 201, "create with healthCheck");
    CPPUNIT_ASSERT_EQUAL(std::string("7000|1500|http|/healthz|2|3"), sqlite(s.db(), cols));
    auto hc = parseObject(r)->getObject("healthCheck");
    CPPUNIT_ASSERT_EQUAL(std::string("7s"), str(hc, "interval"));
    CPPUNIT_ASSERT_EQUAL(std::string("1500ms"), str(hc, "timeout"));
    CPPUNIT_ASSERT_EQUAL(std::string("http"), str(hc, "type"));
    CPPUNIT_ASSERT_EQUAL(std::string("/healthz"), str(hc, "path"));
    CPPUNIT_ASSERT_EQUAL(2, hc->getValue<int>("fall"));
    CPPUNIT_ASSERT_EQUAL(3, hc->getValue<int>("rise"));

    // Add without healthCheck keeps the route's settings.
    r = s.request("POST", "/endpoints/add",
                  R"({"prefixPath":"/h/","targets":["http://127.0.0.1:1"]})");
    expectJsonAnswer(r, 200, "add");
    CPPUNIT_ASSERT_EQUAL(std::string("7000|1500|http|/healthz|2|3"), sqlite(s.db(), cols));

    // Add with a nanosecond interval (what Go clients send): missing fields keep current values.
    r = s.request(
        "POST", "/endpoints/add",
        R"({"prefixPath":"/h/","targets":["http://127.0.0.1:1"],"healthCheck":{"interval":2000000000}})");
    expectJsonAnswer(r, 200, "add ns interval");
    CPPUNIT_ASSERT_EQUAL(0, parseObject(r)->getValue<int>("addedCount"));
    CPPUNIT_ASSERT_EQUAL(std::string("2000|1500|http|/healthz|2|3"), sqlite(s.db(), cols));

    // String durations with units, and the rest of the fields.
    r = s.request(
        "POST", "/endpoints/add",
        R"({"prefixPath":"/h/","targets":["http://127.0.0.1:2"],"healthCheck":)"
        R"({"interval":"1m","timeout":"250ms","type":"tcp","path":"/","fall":4,"rise":1}})");
    expectJsonAnswer(r, 200, "add string durations");
    CPPUNIT_ASSERT_EQUAL(std::string("60000|250|tcp|/|4|1"), sqlite(s.db(), cols));
    r = s.request("GET", "/endpoints/list?prefixPath=/h/");
    hc = parseObject(r)->getObject("healthCheck");
    CPPUNIT_ASSERT_EQUAL(std::string("1m"), str(hc, "interval"));
    CPPUNIT_ASSERT_EQUAL(std::string("250ms"), str(hc, "timeout"));
    CPPUNIT_ASSERT_EQUAL(std::string("2"), sqlite(s.db(), "SELECT count(*) FROM targets"));
    const std::string log = s.process().log();
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, "health check now interval 1m"));
  }

  void testRejectedRequestsChangeNothing() {
    TempDir dir;
    ReachablePort backend;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    // Reachable targets and a long interval: probes write no verdicts, so the revision is stable.
    expectJsonAnswer(
        s.request("POST", "/endpoints/routes",
                  R"({"prefixPath":"/api/","targets":[")" + backend.url("/a") + R"(",")" +
                      backend.url("/b") + R"("],"healthCheck":{"interval":"1h"}})"),
        201, "setup");

    struct Case {
      std::string method, path, body;
      int status;
      std::string error;  // a part of the error message
    };
    const std::string add = "/endpoints/add";
    const std::string newTarget = R"("targets":["http://127.0.0.1:1/new"])";
    const std::vector<Case> cases = {
        // 400: malformed JSON and bodies that are not an object
        {"POST", add, R"({"prefixPath":"/api/",)", 400, "malformed JSON"},
        {"POST", add, R"({"prefixPath":"/api/"} trailing)", 400, "JSON"},
        {"POST", add, "", 400, "empty"},
        {"POST", add, R"(["/api/"])", 400, "object"},
        {"POST", "/endpoints/routes", "not json", 400, "malformed JSON"},
        // 400: missing or invalid fields, named
        {"POST", add, "{" + newTarget + "}", 400, "prefixPath"},
        {"POST", add, R"({"prefixPath":"/api/"})", 400, "targets"},
        {"POST", add, R"({"prefixPath":"/api/","targets":[]})", 400, "targets"},
        {"POST", add, R"({"prefixPath":"/api/","targets":"http://127.0.0.1:1"})", 400, "targets"},
        {"POST", add, R"({"prefixPath":5,)" + newTarget + "}", 400, "prefixPath"},
        {"POST", add, R"({"prefixPath":"/a b/",)" + newTarget + "}", 400, "prefixPath"},
        {"POST", add, R"({"prefixPath":"/api/","targets":["http://127.0.0.1:1/ok","ftp://x"]})",
         400, "targets[1]"},
        {"POST", add, R"({"prefixPath":"/api/","targets":["127.0.0.1:1"]})", 400, "targets[0]"},
        {"POST", add, R"({"prefixPath":"/api/","targets":["http://127.0.0.1:99999"]})", 400,
         "targets[0]"},
        {"POST", add, R"({"prefixPath":"/api/","targets":[7]})", 400, "targets[0]"},
        {"POST", add, R"({"prefixPath":"/api/",)" + newTarget + R"(,"extra":1})", 400, "extra"},
        {"POST", add, R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"every":"1s"}})",
         400, "healthCheck.every"},
        {"POST", add,
         R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"interval":"5 parsecs"}})",
         400, "healthCheck.interval"},
        {"POST", add,
         R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"interval":-5}})", 400,
         "healthCheck.interval"},
        {"POST", add,
         R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"interval":1000}})", 400,
         "interval"},  // 1000 ns is far below the 10ms minimum
        {"POST", add, R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"fall":0}})",
         400, "healthCheck.fall"},
        {"POST", add, R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"rise":true}})",
         400, "healthCheck.rise"},
        {"POST", add,
         R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"type":"icmp"}})", 400,
         "healthCheck.type"},
        {"POST", add,
         R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":{"path":"no-slash"}})", 400,
         "healthCheck"},
        {"POST", add, R"({"prefixPath":"/api/",)" + newTarget + R"(,"healthCheck":"5s"})", 400,
         "healthCheck"},
        {"POST", "/endpoints/remove", R"({"prefixPath":"/api/"})", 400, "targets"},
        {"POST", "/endpoints/remove", R"({"targets":["http://127.0.0.1:1"]})", 400, "prefixPath"},
        {"POST", "/endpoints/routes", R"({"prefixPath":"/new/","balancer":"random"})", 400,
         "balancer"},
        {"POST", "/endpoints/routes", R"({"prefixPath":"/new/","targets":["http://x:0"]})", 400,
         "targets[0]"},
        {"POST", "/endpoints/routes", R"({"prefixPath":"/new/","weight":3})", 400, "weight"},
        {"POST", "/endpoints/routes", R"({"balancer":"least_conn"})", 400, "prefixPath"},
        {"GET", "/endpoints/list", "", 400, "prefixPath"},
        {"GET", "/endpoints/list?prefixPath=/api/&verbose=1", "", 400, "verbose"},
        {"GET", "/endpoints?prefixPath=/api/", "", 400, "target"},
        {"GET", "/endpoints?prefixPath=/api/&target=ftp://x", "", 400, "target"},
        {"DELETE", "/endpoints/routes", "", 400, "prefixPath"},
        // 404: unknown route, target or path
        {"POST", add, R"({"prefixPath":"/nope/",)" + newTarget + "}", 404, "/nope/"},
        {"POST", "/endpoints/remove", R"({"prefixPath":"/nope/",)" + newTarget + "}", 404,
         "/nope/"},
        {"GET", "/endpoints/list?prefixPath=/nope/", "", 404, "/nope/"},
        {"GET", "/endpoints?prefixPath=/nope/&target=" + backend.url("/a"), "", 404, "/nope/"},
        {"GET", "/endpoints?prefixPath=/api/&target=http://127.0.0.1:1/nope", "", 404, "target"},
        {"DELETE", "/endpoints/routes?prefixPath=/nope/", "", 404, "/nope/"},
        {"GET", "/endpoints/nothing", "", 404, "path"},
        {"GET", "/elsewhere", "", 404, "path"},
        // 409: the route exists (in any spelling)
        {"POST", "/endpoints/routes",
         R"({"prefixPath":"api","targets":["http://127.0.0.1:1/new"]})", 409, "exists"},
    };
    for (const auto& c : cases) {
      const std::string what = c.method + " " + c.path + " " + c.body;
      const std::string before = storeSnapshot(s.db());
      const auto r = s.request(c.method, c.path, c.body);
      expectJsonAnswer(r, c.status, what);
      CPPUNIT_ASSERT_MESSAGE(what + " -> " + r.body,
                             contains(str(parseObject(r), "error"), c.error));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what, before, storeSnapshot(s.db()));
    }

    // 405 with the methods the path allows.
    const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> wrong = {
        {{"PUT", "/endpoints/routes"}, "GET, HEAD, POST, DELETE, PATCH"},
        {{"GET", "/endpoints/add"}, "POST"},
        {{"DELETE", "/endpoints/remove"}, "POST"},
        {{"POST", "/endpoints/list?prefixPath=/api/"}, "GET, HEAD"},
        {{"DELETE", "/endpoints?prefixPath=/api/&target=" + backend.url("/a")}, "GET, HEAD, PATCH"},
        {{"POST", "/endpoints/changes"}, "GET, HEAD"},
    };
    for (const auto& [request, allow] : wrong) {
      const std::string what = request.first + " " + request.second;
      const std::string before = storeSnapshot(s.db());
      const auto r = s.request(request.first, request.second, "{}");
      expectJsonAnswer(r, 405, what);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what, allow, r.header("allow"));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what, before, storeSnapshot(s.db()));
    }
    // The status page's files take GET and HEAD only.
    const auto put = s.request("PUT", "/", "{}");
    CPPUNIT_ASSERT_EQUAL(405, put.status);
    CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD"), put.header("allow"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("1|2"),
        sqlite(s.db(), "SELECT (SELECT count(*) FROM routes), (SELECT count(*) FROM targets)"));
    // The sidecar is still serving after all that.
    expectJsonAnswer(s.request("GET", "/endpoints/routes"), 200, "routes after rejections");
  }

  void testBodyLimit() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    expectJsonAnswer(s.request("POST", "/endpoints/routes", R"({"prefixPath":"/api/"})"), 201,
                     "setup");
    const std::size_t mib = 1024 * 1024;
    // A valid add, padded with whitespace to a given size.
    auto padded = [](const std::string& target, std::size_t size) {
      const std::string head = R"({"prefixPath":"/api/","targets":[")" + target + R"("])";
      return head + std::string(size - head.size() - 1, ' ') + "}";
    };

    const std::string before = storeSnapshot(s.db());
    auto r = s.request("POST", "/endpoints/add", padded("http://127.0.0.1:1/big", mib + 1));
    expectJsonAnswer(r, 413, "Content-Length over 1 MiB");
    CPPUNIT_ASSERT_EQUAL(before, storeSnapshot(s.db()));
    r = httpChunked(s.port(), "POST", "/endpoints/add", padded("http://127.0.0.1:1/big", 2 * mib));
    expectJsonAnswer(r, 413, "chunked over 1 MiB");
    CPPUNIT_ASSERT_EQUAL(before, storeSnapshot(s.db()));

    // Exactly 1 MiB is allowed, either way.
    r = s.request("POST", "/endpoints/add", padded("http://127.0.0.1:1/a", mib));
    expectJsonAnswer(r, 200, "Content-Length of 1 MiB");
    r = httpChunked(s.port(), "POST", "/endpoints/add", padded("http://127.0.0.1:1/b", mib));
    expectJsonAnswer(r, 200, "chunked 1 MiB");
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:1/a\nhttp://127.0.0.1:1/b"),
                         sqlite(s.db(), "SELECT url FROM targets ORDER BY id"));
  }

  void testBearerToken() {
    TempDir dir;
    Sidecar s(dir, {"--define=admin.token=s3cret-token"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    const std::map<std::string, std::string> good{{"Authorization", "Bearer s3cret-token"}};
    expectJsonAnswer(s.request("POST", "/endpoints/routes", R"({"prefixPath":"/api/"})", good), 201,
                     "setup");

    const std::string body = R"({"prefixPath":"/api/","targets":["http://127.0.0.1:1"]})";
    const std::vector<std::map<std::string, std::string>> bad = {
        {},
        {{"Authorization", "Bearer wrong"}},
        {{"Authorization", "Bearer s3cret-toke"}},
        {{"Authorization", "Bearer s3cret-token2"}},
        {{"Authorization", "Basic czNjcmV0LXRva2Vu"}},
        {{"Authorization", "s3cret-token"}},
    };
    for (const auto& headers : bad) {
      const std::string what = headers.empty() ? "no Authorization" : headers.begin()->second;
      const std::string before = storeSnapshot(s.db());
      auto r = s.request("POST", "/endpoints/add", body, headers);
      expectJsonAnswer(r, 401, what);
      CPPUNIT_ASSERT_MESSAGE(what, contains(r.header("www-authenticate"), "Bearer"));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what, before, storeSnapshot(s.db()));
      expectJsonAnswer(s.request("GET", "/endpoints/routes", "", headers), 401, what + " (GET)");
      expectJsonAnswer(s.request("GET", "/endpoints/unknown", "", headers), 401,
                       what + " (unknown path)");
    }
    auto r = s.request("POST", "/endpoints/add", body, good);
    expectJsonAnswer(r, 200, "good token");
    CPPUNIT_ASSERT_EQUAL(1, parseObject(r)->getValue<int>("addedCount"));
    expectJsonAnswer(
        s.request("GET", "/endpoints/routes", "", {{"Authorization", "bearer s3cret-token"}}), 200,
        "scheme is case-insensitive");
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SidecarApiTest);
