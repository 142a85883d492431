// The admin API against its description, docs/openapi.yaml: a real sidecar answers every
// documented status of every operation at least once, and tests/openapi/check_answers.py checks
// each answer's status, content type, headers and body against the description's schemas.

#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "e2e/SidecarHarness.h"
#include "store/sqlite/Sqlite.h"
#include "support/ExternalWriteLock.h"

#ifndef PORTICO_SOURCE_DIR
#error "PORTICO_SOURCE_DIR must be defined by the build"
#endif

using namespace portico::test;
using namespace std::chrono_literals;

namespace {

/// Sends admin requests and writes each exchange as one JSON line for the checker.
class Recorder {
 public:
  Recorder(const Sidecar& sidecar, std::string file) : sidecar_(sidecar), file_(std::move(file)) {}

  /// `specPath` is the path as the description names it; `target` the request's path and query;
  /// `more` adds request headers (If-Match).
  HttpResult call(const std::string& method, const std::string& specPath, const std::string& target,
                  const std::string& body = "", bool auth = true,
                  std::chrono::milliseconds timeout = 10s,
                  const std::map<std::string, std::string>& more = {}) {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (auth) headers["Authorization"] = "Bearer spec-token";
    headers.insert(more.begin(), more.end());
    const HttpResult r = http(sidecar_.port(), method, target, body, headers, timeout);
    Poco::JSON::Object line;
    line.set("method", method);
    line.set("path", specPath);
    line.set("status", r.status);
    line.set("contentType", r.header("content-type"));
    Poco::JSON::Object headersSeen;
    for (const auto& [name, value] : r.headers) headersSeen.set(name, value);
    line.set("headers", headersSeen);
    line.set("body", r.body);
    std::ostringstream text;
    line.stringify(text);
    std::lock_guard<std::mutex> lock(mutex_);
    std::ofstream(file_, std::ios::app) << text.str() << "\n";
    return r;
  }

 private:
  const Sidecar& sidecar_;
  std::string file_;
  std::mutex mutex_;
};

}  // namespace

class AdminApiSpecTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AdminApiSpecTest);
  CPPUNIT_TEST(testEveryDocumentedAnswer);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEveryDocumentedAnswer() {
    TempDir dir;
    ReachablePort backend;
    Sidecar sidecar(dir, {"--define=admin.token=spec-token"});
    CPPUNIT_ASSERT_MESSAGE(sidecar.process().log(), sidecar.ready());
    Recorder api(sidecar, dir.file("exchanges.jsonl"));
    const std::string t1 = backend.url();
    const std::string t2 = backend.url("/v2");
    const auto expect = [](int status, const HttpResult& r) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, status, r.status);
    };
    // A write made conditional on the revision an earlier answer reported (`stale`: one the
    // store has left).
    const auto ifMatch = [](const HttpResult& r) {
      return std::map<std::string, std::string>{{"If-Match", r.header("etag")}};
    };
    const std::map<std::string, std::string> stale{{"If-Match", "\"1\""}};
    // A conditional write at the revision just read. A health verdict may move the store in
    // between (then 412, also a documented answer): read again and retry, a few times.
    const auto conditional = [&](const std::string& method, const std::string& specPath,
                                 const std::string& target, const std::string& body) {
      HttpResult r;
      for (int attempt = 0; attempt < 5; ++attempt) {
        const HttpResult read = api.call("GET", "/endpoints/routes", "/endpoints/routes");
        expect(200, read);
        r = api.call(method, specPath, target, body, true, 10s, ifMatch(read));
        if (r.status != 412) break;
      }
      return r;
    };
    const std::string tooBig =
        "{\"prefixPath\":\"/a/\",\"targets\":[\"" + std::string(1024 * 1024, 'x') + "\"]}";

    // /endpoints/routes
    expect(201,
           api.call("POST", "/endpoints/routes", "/endpoints/routes",
                    "{\"prefixPath\":\"svc\",\"targets\":[\"" + t1 +
                        "\"],\"balancer\":\"least_conn\",\"healthCheck\":{\"interval\":\"2s\","
                        "\"timeout\":2000000000,\"type\":\"http\",\"path\":\"/h\",\"fall\":2}}"));
    expect(409,
           api.call("POST", "/endpoints/routes", "/endpoints/routes", targetsBody("/svc/", {})));
    expect(400, api.call("POST", "/endpoints/routes", "/endpoints/routes",
                         "{\"prefixPath\":\"/x/\",\"balancer\":\"random\"}"));
    expect(401, api.call("POST", "/endpoints/routes", "/endpoints/routes", "{}", false));
    expect(413, api.call("POST", "/endpoints/routes", "/endpoints/routes", tooBig));
    expect(412, api.call("POST", "/endpoints/routes", "/endpoints/routes",
                         "{\"prefixPath\":\"/late/\"}", true, 10s, stale));
    expect(201, conditional("POST", "/endpoints/routes", "/endpoints/routes",
                            "{\"prefixPath\":\"/weighted/\",\"targets\":[{\"target\":\"" + t1 +
                                "\",\"weight\":300},\"" + t2 +
                                "\"],\"healthCheck\":{\"slowStart\":\"30s\"}}"));
    expect(400, api.call("GET", "/endpoints/routes", "/endpoints/routes?verbose=1"));
    // Pages (with `next` while more follow), and a bad limit.
    expect(200, api.call("GET", "/endpoints/routes", "/endpoints/routes?limit=1"));
    expect(200, api.call("GET", "/endpoints/routes", "/endpoints/routes?limit=1&after=/svc/"));
    expect(200, api.call("GET", "/endpoints/routes", "/endpoints/routes?after=zzz"));
    expect(400, api.call("GET", "/endpoints/routes", "/endpoints/routes?limit=0"));
    expect(401, api.call("GET", "/endpoints/routes", "/endpoints/routes", "", false));
    expect(405, api.call("PUT", "/endpoints/routes", "/endpoints/routes", "{}"));

    // /endpoints/add and /endpoints/remove
    expect(200, api.call("POST", "/endpoints/add", "/endpoints/add",
                         "{\"prefixPath\":\"/svc/\",\"targets\":[\"" + t2 +
                             "\"],\"healthCheck\":{\"rise\":2}}"));
    expect(400, api.call("POST", "/endpoints/add", "/endpoints/add", "{not json"));
    expect(404, api.call("POST", "/endpoints/add", "/endpoints/add", targetsBody("/nope/", {t1})));
    expect(401, api.call("POST", "/endpoints/add", "/endpoints/add", "{}", false));
    expect(412, api.call("POST", "/endpoints/add", "/endpoints/add", targetsBody("/svc/", {t2}),
                         true, 10s, stale));
    expect(413, api.call("POST", "/endpoints/add", "/endpoints/add", tooBig));
    expect(405, api.call("GET", "/endpoints/add", "/endpoints/add"));
    expect(200,
           api.call("POST", "/endpoints/remove", "/endpoints/remove", targetsBody("/svc/", {t2})));
    expect(400,
           api.call("POST", "/endpoints/remove", "/endpoints/remove", targetsBody("/svc/", {})));
    expect(404,
           api.call("POST", "/endpoints/remove", "/endpoints/remove", targetsBody("/nope/", {t1})));
    expect(401, api.call("POST", "/endpoints/remove", "/endpoints/remove", "{}", false));
    expect(412, api.call("POST", "/endpoints/remove", "/endpoints/remove",
                         targetsBody("/svc/", {t1}), true, 10s, stale));
    expect(413, api.call("POST", "/endpoints/remove", "/endpoints/remove", tooBig));
    expect(405, api.call("GET", "/endpoints/remove", "/endpoints/remove"));

    // /endpoints/list and /endpoints
    expect(200, api.call("GET", "/endpoints/list", "/endpoints/list?prefixPath=/svc/"));
    expect(200,
           api.call("GET", "/endpoints/list", "/endpoints/list?prefixPath=/weighted/&limit=1"));
    expect(200, api.call("GET", "/endpoints/list",
                         "/endpoints/list?prefixPath=/weighted/&limit=1&after=" + t1));
    expect(400, api.call("GET", "/endpoints/list",
                         "/endpoints/list?prefixPath=/weighted/&after=http://nowhere:1"));
    expect(400, api.call("GET", "/endpoints/list", "/endpoints/list"));
    expect(404, api.call("GET", "/endpoints/list", "/endpoints/list?prefixPath=/nope/"));
    expect(401, api.call("GET", "/endpoints/list", "/endpoints/list?prefixPath=/svc/", "", false));
    expect(405, api.call("POST", "/endpoints/list", "/endpoints/list", "{}"));
    expect(200, api.call("GET", "/endpoints", "/endpoints?prefixPath=svc&target=" + t1));
    expect(400, api.call("GET", "/endpoints", "/endpoints?prefixPath=/svc/"));
    expect(404, api.call("GET", "/endpoints", "/endpoints?prefixPath=/svc/&target=" + t2));
    expect(401,
           api.call("GET", "/endpoints", "/endpoints?prefixPath=/svc/&target=" + t1, "", false));
    expect(405, api.call("POST", "/endpoints", "/endpoints", "{}"));

    // PATCH /endpoints: weight and state of one target, conditional or not.
    const std::string one = "/endpoints?prefixPath=/weighted/&target=" + t1;
    expect(200, api.call("PATCH", "/endpoints", one, "{\"weight\":50,\"state\":\"draining\"}"));
    expect(200, conditional("PATCH", "/endpoints", one, "{\"state\":\"active\"}"));
    expect(412, api.call("PATCH", "/endpoints", one, "{\"weight\":7}", true, 10s, stale));
    expect(400, api.call("PATCH", "/endpoints", one, "{\"weight\":1001}"));
    expect(400, api.call("PATCH", "/endpoints", one, "{\"weight\":1,\"weight\":2}"));
    expect(400,
           api.call("PATCH", "/endpoints", one, "{\"weight\":5}", true, 10s, {{"If-Match", "5"}}));
    expect(404, api.call("PATCH", "/endpoints",
                         "/endpoints?prefixPath=/weighted/&target=" + t1 + "/elsewhere",
                         "{\"weight\":5}"));
    expect(404, api.call("PATCH", "/endpoints", "/endpoints?prefixPath=/nope/&target=" + t1,
                         "{\"weight\":5}"));
    expect(401, api.call("PATCH", "/endpoints", one, "{\"weight\":5}", false));
    expect(413, api.call("PATCH", "/endpoints", one, tooBig));

    // PATCH /endpoints/routes: a route's balancer, health check or policies.
    const std::string route = "/endpoints/routes?prefixPath=/weighted/";
    expect(200, api.call("PATCH", "/endpoints/routes", route, "{\"balancer\":\"least_conn\"}"));
    expect(200, conditional("PATCH", "/endpoints/routes", route,
                            "{\"healthCheck\":{\"path\":\"/up\"}}"));
    expect(400, api.call("PATCH", "/endpoints/routes", route, "{\"balancer\":\"random\"}"));
    expect(404, api.call("PATCH", "/endpoints/routes", "/endpoints/routes?prefixPath=/nope/",
                         "{\"balancer\":\"ip_hash\"}"));
    expect(401, api.call("PATCH", "/endpoints/routes", route, "{\"balancer\":\"ip_hash\"}", false));
    expect(412, api.call("PATCH", "/endpoints/routes", route, "{\"balancer\":\"ip_hash\"}", true,
                         10s, stale));
    expect(413, api.call("PATCH", "/endpoints/routes", route, tooBig));

    // GET /endpoints/changes: the history, paged and filtered.
    expect(200, api.call("GET", "/endpoints/changes", "/endpoints/changes"));
    expect(200, api.call("GET", "/endpoints/changes",
                         "/endpoints/changes?since=2&limit=1&route=weighted&target=" + t1));
    expect(400, api.call("GET", "/endpoints/changes", "/endpoints/changes?since=-1"));
    expect(400, api.call("GET", "/endpoints/changes", "/endpoints/changes?limit=1001"));
    expect(401, api.call("GET", "/endpoints/changes", "/endpoints/changes", "", false));
    expect(405, api.call("POST", "/endpoints/changes", "/endpoints/changes", "{}"));

    // /endpoints/config and /endpoints/revert: the configuration as one document (issue #23).
    const HttpResult document = api.call("GET", "/endpoints/config", "/endpoints/config");
    expect(200, document);
    expect(400, api.call("GET", "/endpoints/config", "/endpoints/config?verbose=1"));
    expect(401, api.call("GET", "/endpoints/config", "/endpoints/config", "", false));
    expect(405, api.call("POST", "/endpoints/config", "/endpoints/config", "{}"));
    std::string withDoc = document.body;
    withDoc.insert(withDoc.find("\"routes\":[") + 10,
                   "{\"prefixPath\":\"/doc/\",\"targets\":[{\"target\":\"" + t1 +
                       "\",\"state\":\"draining\"}]},");
    expect(200, api.call("PUT", "/endpoints/config", "/endpoints/config?dryRun=true", withDoc));
    expect(200, conditional("PUT", "/endpoints/config", "/endpoints/config", withDoc));
    expect(400, api.call("PUT", "/endpoints/config", "/endpoints/config",
                         "{\"routes\":[{\"prefixPath\":\"/a/\"},{\"prefixPath\":\"a\"}]}"));
    expect(401, api.call("PUT", "/endpoints/config", "/endpoints/config", withDoc, false));
    expect(412,
           api.call("PUT", "/endpoints/config", "/endpoints/config", withDoc, true, 10s, stale));
    expect(413, api.call("PUT", "/endpoints/config", "/endpoints/config", tooBig));
    const std::string back =
        "{\"revision\":" + document.header("etag").substr(1, document.header("etag").size() - 2) +
        "}";
    expect(200, api.call("POST", "/endpoints/revert", "/endpoints/revert?dryRun=true", back));
    expect(200, api.call("POST", "/endpoints/revert", "/endpoints/revert", back));
    expect(400, api.call("POST", "/endpoints/revert", "/endpoints/revert", "{\"revision\":-1}"));
    // Revision 0, before the first change the history holds: it cannot be rebuilt.
    expect(409, api.call("POST", "/endpoints/revert", "/endpoints/revert", "{\"revision\":0}"));
    expect(401, api.call("POST", "/endpoints/revert", "/endpoints/revert", back, false));
    expect(412, api.call("POST", "/endpoints/revert", "/endpoints/revert", back, true, 10s, stale));
    expect(413, api.call("POST", "/endpoints/revert", "/endpoints/revert", tooBig));
    expect(405, api.call("GET", "/endpoints/revert", "/endpoints/revert"));

    // /metrics
    expect(200, api.call("GET", "/metrics", "/metrics"));
    expect(401, api.call("GET", "/metrics", "/metrics", "", false));
    expect(405, api.call("POST", "/metrics", "/metrics", "{}"));

    // /endpoints/proxies: one row as a proxy writes it (live, then stale), and waits.
    portico::SqliteConnection(sidecar.db(), SQLITE_OPEN_READWRITE)
        .exec(
            "INSERT INTO proxies (id, addresses, version, started_at, revision, applied_at, "
            "last_seen, heartbeat_ms) SELECT 'edge-a:8080', '0.0.0.0:8080 0.0.0.0:8443', '1.4.0', "
            "1764950000000, value, 1764950000000, CAST((julianday('now') - 2440587.5) * 86400000.0 "
            "AS INTEGER), 60000 FROM revision");
    expect(200, api.call("GET", "/endpoints/proxies", "/endpoints/proxies"));
    expect(200, api.call("GET", "/endpoints/proxies", "/endpoints/proxies?revision=1&wait=10ms"));
    expect(201, api.call("POST", "/endpoints/routes", "/endpoints/routes?wait=10ms",
                         "{\"prefixPath\":\"/waited/\"}"));
    expect(400, api.call("GET", "/endpoints/proxies", "/endpoints/proxies?wait=2m"));
    expect(400, api.call("POST", "/endpoints/routes", "/endpoints/routes?wait=soon",
                         "{\"prefixPath\":\"/late/\"}"));
    expect(401, api.call("GET", "/endpoints/proxies", "/endpoints/proxies", "", false));
    expect(405, api.call("POST", "/endpoints/proxies", "/endpoints/proxies", "{}"));

    // 503: another connection holds the store's write lock past the busy timeout (5 s). The
    // API serialises its writes, so the eight requests take their turns: about 40 s (the health
    // checker's own writes give up sooner and do not stretch it much).
    expect(201,
           api.call("POST", "/endpoints/routes", "/endpoints/routes", targetsBody("/gone/", {t1})));
    {
      ExternalWriteLock holder(sidecar.db());
      std::vector<std::thread> writers;
      std::vector<HttpResult> busy(8);
      const std::vector<std::tuple<std::string, std::string, std::string>> requests{
          {"POST", "/endpoints/add", targetsBody("/svc/", {t2})},
          {"POST", "/endpoints/remove", targetsBody("/svc/", {t1})},
          {"POST", "/endpoints/routes", "{\"prefixPath\":\"/new/\"}"},
          {"DELETE", "/endpoints/routes", ""},
          {"PATCH", "/endpoints", "{\"weight\":20}"},
          {"PATCH", "/endpoints/routes", "{\"balancer\":\"ip_hash\"}"},
          {"PUT", "/endpoints/config", "{\"routes\":[]}"},
          {"POST", "/endpoints/revert", back}};
      for (std::size_t i = 0; i < requests.size(); ++i) {
        writers.emplace_back([&, i] {
          const auto& [method, path, body] = requests[i];
          const std::string target = method == "DELETE"  ? path + "?prefixPath=/gone/"
                                     : method == "PATCH" ? one
                                                         : path;
          busy[i] = api.call(method, path,
                             path == "/endpoints/routes" && method == "PATCH" ? route : target,
                             body, true, 60s);
        });
      }
      for (auto& w : writers) w.join();
      for (const auto& r : busy) expect(503, r);
    }
    expect(200, api.call("DELETE", "/endpoints/routes", "/endpoints/routes?prefixPath=/gone/"));
    expect(404, api.call("DELETE", "/endpoints/routes", "/endpoints/routes?prefixPath=/gone/"));
    expect(400, api.call("DELETE", "/endpoints/routes", "/endpoints/routes"));
    expect(401, api.call("DELETE", "/endpoints/routes", "/endpoints/routes?prefixPath=/svc/", "",
                         false));
    expect(412, api.call("DELETE", "/endpoints/routes", "/endpoints/routes?prefixPath=/svc/", "",
                         true, 10s, stale));

    // Every answer against the description, and every documented answer seen.
    const std::string command = std::string("/usr/bin/python3 ") + PORTICO_SOURCE_DIR +
                                "/tests/openapi/check_answers.py " + PORTICO_SOURCE_DIR +
                                "/docs/openapi.yaml " + dir.file("exchanges.jsonl") + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    CPPUNIT_ASSERT(p);
    std::string out;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p)) out.append(buffer, n);
    const int status = ::pclose(p);
    CPPUNIT_ASSERT_MESSAGE(out, WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminApiSpecTest);
