// Configuration as code (issue #23) against a real portico-sidecar: GET and PUT
// /endpoints/config, POST /endpoints/revert, their errors, and a property test (a seeded random
// sequence of API changes, then reverts to recorded revisions give back their documents byte
// for byte). Built twice: on SQLite, and (PORTICO_STORE_POSTGRES) on a PostgreSQL server the
// test starts.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "e2e/SidecarHarness.h"
#include "support/TestSupport.h"
#ifdef PORTICO_STORE_POSTGRES
#include "support/PostgresServer.h"
#endif

using portico::test::contains;
using portico::test::HttpResult;
using portico::test::parseObject;
using portico::test::Sidecar;
using portico::test::TempDir;

namespace {

/// A sidecar on a fresh store of the build's kind; `defines` are more settings. Its targets are
/// ports that accept connections, so health probes find them up and write no verdict: the
/// revision moves only with the test's changes.
class Admin {
 public:
  static constexpr std::size_t kTargets = 12;

  explicit Admin(std::vector<std::string> defines = {}) {
    for (std::size_t i = 0; i < kTargets; ++i)
      ports_.push_back(std::make_unique<portico::test::ReachablePort>());
    std::vector<std::string> args{"--define=health.interval=1h"};
#ifdef PORTICO_STORE_POSTGRES
    args.push_back("--define=store.url=" + server().createDatabase());
#endif
    for (const auto& d : defines) args.push_back("--define=" + d);
    sidecar_ = std::make_unique<Sidecar>(dir_, args);
    if (!sidecar_->ready()) CPPUNIT_FAIL("sidecar did not start: " + sidecar_->process().log());
  }

  /// The URL of target `n` (1 to kTargets).
  std::string target(int n) const {
    return ports_.at(static_cast<std::size_t>(n - 1))->url();
  }
  /// `text` with each "{tN}" spelled as target(N).
  std::string expand(std::string text) const {
    for (std::size_t at = text.find("{t"); at != std::string::npos; at = text.find("{t", at)) {
      const auto end = text.find('}', at);
      const auto url = target(std::stoi(text.substr(at + 2, end - at - 2)));
      text.replace(at, end - at + 1, url);
      at += url.size();
    }
    return text;
  }

  /// A request; "{tN}" in its path and body name target N.
  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) const {
    return sidecar_->request(method, expand(path), expand(body), headers);
  }
  /// `call`, asserting a 2xx.
  HttpResult ok(const std::string& method, const std::string& path,
                const std::string& body = "") const {
    const auto r = call(method, path, body);
    CPPUNIT_ASSERT_MESSAGE(method + " " + path + " " + body + " -> " + r.body + r.error,
                           r.status >= 200 && r.status < 300);
    return r;
  }
  HttpResult config() const {
    return ok("GET", "/endpoints/config");
  }
  static std::int64_t revisionOf(const HttpResult& r) {
    const auto tag = r.header("etag");
    CPPUNIT_ASSERT_MESSAGE("ETag " + tag, tag.size() > 2 && tag.front() == '"');
    return std::stoll(tag.substr(1, tag.size() - 2));
  }
  static std::string ifMatch(std::int64_t revision) {
    return "\"" + std::to_string(revision) + "\"";
  }

 private:
#ifdef PORTICO_STORE_POSTGRES
  static portico::test::PostgresServer& server() {
    static portico::test::PostgresServer instance;
    return instance;
  }
#endif
  std::vector<std::unique_ptr<portico::test::ReachablePort>> ports_;
  TempDir dir_;
  std::unique_ptr<Sidecar> sidecar_;
};

/// The document without its revision: what a revert must give back byte for byte.
std::string routesOf(const std::string& document) {
  const auto at = document.find("\"routes\":");
  CPPUNIT_ASSERT_MESSAGE(document, at != std::string::npos);
  return document.substr(at);
}

std::size_t changeCount(const HttpResult& r) {
  return parseObject(r)->getArray("changes")->size();
}

const std::string kRoutes = "/endpoints/routes";

}  // namespace

class ConfigApiTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConfigApiTest);
  CPPUNIT_TEST(testGetIsTheDesiredStateInOneOrder);
  CPPUNIT_TEST(testGetThenPutChangesNothing);
  CPPUNIT_TEST(testOnePutIsOneRevision);
  CPPUNIT_TEST(testRefusals);
  CPPUNIT_TEST(testRevert);
  CPPUNIT_TEST(testRevertAcrossTrimmedHistory);
  CPPUNIT_TEST(testRevertGivesBackEverySnapshot);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testGetIsTheDesiredStateInOneOrder() {
    Admin admin;
    admin.ok("POST", kRoutes,
             R"({"prefixPath":"/b/","host":"x.example","targets":["{t2}",)"
             R"({"target":"{t1}","weight":7}],"stripPrefix":false})");
    admin.ok("POST", kRoutes, R"({"prefixPath":"/a/","balancer":"ip_hash"})");
    admin.ok("PATCH", "/endpoints?prefixPath=/b/&host=x.example&target={t2}",
             R"({"state":"draining","maxConnections":3})");
    const auto r = admin.config();
    CPPUNIT_ASSERT_EQUAL(200, r.status);
    CPPUNIT_ASSERT_EQUAL(admin.ok("GET", kRoutes).header("etag"), r.header("etag"));
    CPPUNIT_ASSERT_EQUAL(r.body, admin.config().body);
    const auto doc = parseObject(r);
    CPPUNIT_ASSERT_EQUAL(Admin::revisionOf(r), doc->getValue<std::int64_t>("revision"));
    // Routes by (host, prefix), targets by URL, fixed keys, no verdicts.
    CPPUNIT_ASSERT(r.body.find("\"prefixPath\":\"/a/\"") < r.body.find("\"prefixPath\":\"/b/\""));
    const auto one =
        admin.expand(R"({"target":"{t1}","weight":7,"state":"active","maxConnections":0})");
    const auto two =
        admin.expand(R"({"target":"{t2}","weight":100,"state":"draining","maxConnections":3})");
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, one) && contains(r.body, two));
    CPPUNIT_ASSERT((r.body.find(one) < r.body.find(two)) == (admin.target(1) < admin.target(2)));
    CPPUNIT_ASSERT(contains(r.body, R"({"host":"","prefixPath":"/a/","balancer":"ip_hash",)"
                                    R"("healthCheck":{"interval":)"));
    CPPUNIT_ASSERT(!contains(r.body, "healthy"));
    CPPUNIT_ASSERT(!contains(r.body, "lastError"));
  }

  void testGetThenPutChangesNothing() {
    Admin admin;
    admin.ok("POST", kRoutes,
             R"({"prefixPath":"/a/","targets":["{t1}"],"retries":{"attempts":2}})");
    const auto before = admin.config();
    const auto put =
        admin.call("PUT", "/endpoints/config", before.body, {{"If-Match", before.header("etag")}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(put.body, 200, put.status);
    CPPUNIT_ASSERT_EQUAL(std::size_t{0}, changeCount(put));
    CPPUNIT_ASSERT_EQUAL(before.header("etag"), put.header("etag"));
    const auto after = admin.config();
    CPPUNIT_ASSERT_EQUAL(before.body, after.body);
    CPPUNIT_ASSERT_EQUAL(Admin::revisionOf(before), Admin::revisionOf(after));
  }

  void testOnePutIsOneRevision() {
    Admin admin;
    admin.ok("POST", kRoutes, R"({"prefixPath":"/a/","targets":["{t1}","{t2}"]})");
    admin.ok("POST", kRoutes, R"({"prefixPath":"/old/","targets":["{t3}"]})");
    const auto at = Admin::revisionOf(admin.config());
    const std::string wanted =
        R"({"routes":[{"prefixPath":"/a/","targets":[{"target":"{t1}","weight":5},)"
        R"("{t4}"]},{"prefixPath":"/new/","host":"n.example"}]})";
    // The dry run answers the changes and writes nothing.
    const auto dry = admin.ok("PUT", "/endpoints/config?dryRun=true", wanted);
    CPPUNIT_ASSERT_EQUAL(at, Admin::revisionOf(admin.config()));
    CPPUNIT_ASSERT_EQUAL(at, parseObject(dry)->getValue<std::int64_t>("revision"));
    CPPUNIT_ASSERT(contains(dry.body, admin.expand(R"({"action":"target.weight","route":"/a/",)"
                                                   R"("host":"","target":"{t1}","before":)"
                                                   R"({"weight":100},"after":{"weight":5}})")));
    const auto put = admin.ok("PUT", "/endpoints/config", wanted);
    const auto changes = parseObject(dry)->getArray("changes");
    CPPUNIT_ASSERT_EQUAL(changes->size(), changeCount(put));
    CPPUNIT_ASSERT_EQUAL(std::size_t{6}, changes->size());
    // add, remove, re-weight, a route created and one deleted: one revision, a row each.
    CPPUNIT_ASSERT_EQUAL(at + 1, Admin::revisionOf(put));
    CPPUNIT_ASSERT_EQUAL(at + 1, Admin::revisionOf(admin.config()));
    const auto history =
        parseObject(admin.ok("GET", "/endpoints/changes?since=" + std::to_string(at)))
            ->getArray("changes");
    CPPUNIT_ASSERT_EQUAL(changes->size(), history->size());
    for (std::size_t i = 0; i < history->size(); ++i) {
      const auto row = history->getObject(static_cast<unsigned>(i));
      CPPUNIT_ASSERT_EQUAL(at + 1, row->getValue<std::int64_t>("revision"));
      CPPUNIT_ASSERT_EQUAL(std::string("api"), row->getValue<std::string>("actor"));
      CPPUNIT_ASSERT_EQUAL(
          changes->getObject(static_cast<unsigned>(i))->getValue<std::string>("action"),
          row->getValue<std::string>("action"));
    }
  }

  void testRefusals() {
    Admin admin;
    admin.ok("POST", kRoutes, R"({"prefixPath":"/a/","targets":["{t1}"]})");
    const auto before = admin.config();
    const std::vector<std::pair<std::string, std::string>> bad{
        {R"({"routes":[{"prefixPath":"/a/"},{"prefixPath":"/b/","targets":[{"target":)"
         R"("{t1}","weight":-1}]}]})",
         "invalid field 'routes[1].targets[0].weight'"},
        {R"({"routes":[{"prefixPath":"/a/"},{"prefixPath":"/a"}]})",
         "invalid field 'routes[1]': route /a/ is given twice (first at routes[0])"},
        {R"({"routes":[{"prefixPath":"/a/","timeouts":{"read":"soon"}}]})", "'routes[0].timeouts"},
        {"[]", "request body must be a JSON object"},
    };
    for (const auto& [body, message] : bad) {
      for (const std::string& query : {std::string(), std::string("?dryRun=true")}) {
        const auto r = admin.call("PUT", "/endpoints/config" + query, body);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(body + " -> " + r.body, 400, r.status);
        CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, message));
      }
    }
    CPPUNIT_ASSERT_EQUAL(before.body, admin.config().body);
    // If-Match: 412 with the store's revision, for a write, a dry run and a revert.
    const auto at = Admin::revisionOf(before);
    const std::map<std::string, std::string> stale{{"If-Match", Admin::ifMatch(at - 1)}};
    for (const auto& [method, path, body] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"PUT", "/endpoints/config", R"({"routes":[]})"},
             {"PUT", "/endpoints/config?dryRun=true", R"({"routes":[]})"},
             {"POST", "/endpoints/revert", "{\"revision\":" + std::to_string(at - 1) + "}"},
             {"POST", "/endpoints/revert?dryRun=true", "{\"revision\":1}"}}) {
      const auto r = admin.call(method, path, body, stale);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(path + " " + r.body, 412, r.status);
      CPPUNIT_ASSERT_EQUAL(at, Admin::revisionOf(r));
    }
    CPPUNIT_ASSERT_EQUAL(before.body, admin.config().body);
    // A revision that is not one: 400.
    for (const std::string& body : std::vector<std::string>{
             "{\"revision\":-1}", "{\"revision\":" + std::to_string(at + 1) + "}",
             "{\"revision\":\"1\"}", "{}", "{\"revision\":1,\"x\":1}"}) {
      const auto r = admin.call("POST", "/endpoints/revert", body);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(body + " -> " + r.body, 400, r.status);
    }
    CPPUNIT_ASSERT_EQUAL(400, admin.call("PUT", "/endpoints/config?dryRun=yes", "{}").status);
    CPPUNIT_ASSERT_EQUAL(405, admin.call("POST", "/endpoints/config", "{}").status);
    CPPUNIT_ASSERT_EQUAL(before.body, admin.config().body);
  }

  void testRevert() {
    Admin admin;
    admin.ok("POST", kRoutes, R"({"prefixPath":"/a/","targets":["{t1}"]})");
    const auto first = admin.config();
    admin.ok("PATCH", "/endpoints?prefixPath=/a/&target={t1}", R"({"weight":3})");
    admin.ok("POST", kRoutes, R"({"prefixPath":"/b/","host":"b.example"})");
    const auto at = Admin::revisionOf(admin.config());
    const std::string body = "{\"revision\":" + std::to_string(Admin::revisionOf(first)) + "}";
    // The dry run: the changes, nothing written.
    const auto dry = admin.ok("POST", "/endpoints/revert?dryRun=true", body);
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, changeCount(dry));
    CPPUNIT_ASSERT_EQUAL(at, Admin::revisionOf(admin.config()));
    const auto r =
        admin.call("POST", "/endpoints/revert", body, {{"If-Match", Admin::ifMatch(at)}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(at + 1, Admin::revisionOf(r));
    CPPUNIT_ASSERT_EQUAL(routesOf(first.body), routesOf(admin.config().body));
    // Its history rows say what it went back to.
    const auto rows = parseObject(admin.ok("GET", "/endpoints/changes?since=" + std::to_string(at)))
                          ->getArray("changes");
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, rows->size());
    for (std::size_t i = 0; i < rows->size(); ++i)
      CPPUNIT_ASSERT_EQUAL(
          Admin::revisionOf(first),
          rows->getObject(static_cast<unsigned>(i))->getValue<std::int64_t>("revertOf"));
    // Back to the current revision: nothing to do, no revision.
    const auto none =
        admin.ok("POST", "/endpoints/revert", "{\"revision\":" + std::to_string(at + 1) + "}");
    CPPUNIT_ASSERT_EQUAL(std::size_t{0}, changeCount(none));
    CPPUNIT_ASSERT_EQUAL(at + 1, Admin::revisionOf(admin.config()));
    // And forward again, across the revert's own rows.
    admin.ok("POST", "/endpoints/revert", "{\"revision\":" + std::to_string(at) + "}");
    CPPUNIT_ASSERT(contains(admin.config().body, "b.example"));
  }

  void testRevertAcrossTrimmedHistory() {
    Admin admin({"store.history_limit=3"});
    for (const char* prefix : {"/a/", "/b/", "/c/", "/d/", "/e/"})
      admin.ok("POST", kRoutes, std::string("{\"prefixPath\":\"") + prefix + "\"}");
    const auto at = Admin::revisionOf(admin.config());
    const auto before = admin.config().body;
    for (const std::string& query : {std::string(), std::string("?dryRun=true")}) {
      const auto r = admin.call("POST", "/endpoints/revert" + query,
                                "{\"revision\":" + std::to_string(at - 4) + "}");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 409, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body,
                             contains(r.body, "history before revision " + std::to_string(at - 2) +
                                                  " has been trimmed (store.history_limit)"));
    }
    CPPUNIT_ASSERT_EQUAL(before, admin.config().body);
    // Within what is kept: fine.
    admin.ok("POST", "/endpoints/revert", "{\"revision\":" + std::to_string(at - 2) + "}");
    CPPUNIT_ASSERT(!contains(admin.config().body, "/e/"));
  }

  void testRevertGivesBackEverySnapshot();
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigApiTest);

namespace {

/// A seeded random change through the API, chosen from the configuration as it stands.
class RandomChanges {
 public:
  RandomChanges(const Admin& admin, unsigned seed) : admin_(admin), rng_(seed) {}

  /// One change; `document` is the configuration it starts from.
  void apply(const Poco::JSON::Object::Ptr& document) {
    const auto routes = document->getArray("routes");
    const int op = pick(100);
    if (routes->size() == 0 || op < 15) return createRoute();
    const auto route = routes->getObject(static_cast<unsigned>(pick(routes->size())));
    const std::string where = "prefixPath=" + route->getValue<std::string>("prefixPath") +
                              "&host=" + route->getValue<std::string>("host");
    const auto targets = route->getArray("targets");
    if (op < 22) return check(admin_.call("DELETE", kRoutes + "?" + where));
    if (op < 40) return addTargets(route);
    if (op < 65 && targets->size() > 0) {
      const auto url = targets->getObject(static_cast<unsigned>(pick(targets->size())))
                           ->getValue<std::string>("target");
      if (op < 50)
        return check(admin_.call("POST", "/endpoints/remove",
                                 keyOf(route) + ",\"targets\":[\"" + url + "\"]}"));
      return check(admin_.call("PATCH", "/endpoints?" + where + "&target=" + url, targetPatch()));
    }
    if (op < 90) return check(admin_.call("PATCH", kRoutes + "?" + where, routePatch()));
    putEdited(document);
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  template <typename T>
  const T& oneOf(const std::vector<T>& items) {
    return items[pick(items.size())];
  }

  void check(const HttpResult& r) {
    // 409: a route created twice (a prefix drawn again); anything else is a failed change.
    CPPUNIT_ASSERT_MESSAGE(r.body + r.error,
                           (r.status >= 200 && r.status < 300) || r.status == 409);
  }

  static std::string keyOf(const Poco::JSON::Object::Ptr& route) {
    return "{\"prefixPath\":\"" + route->getValue<std::string>("prefixPath") + "\",\"host\":\"" +
           route->getValue<std::string>("host") + "\"";
  }

  /// One of the reachable targets, or now and then one nothing listens on: its first probe
  /// fails, a health verdict moves the revision, and reverts must leave verdicts alone.
  std::string url() {
    if (pick(Admin::kTargets + 1) == 0) return "http://127.0.0.1:9";
    return admin_.target(static_cast<int>(1 + pick(Admin::kTargets)));
  }
  std::string targetList() {
    std::string out;
    for (std::size_t i = 0, n = 1 + pick(3); i < n; ++i)
      out += (i ? "," : "") + std::string("{\"target\":\"") + url() +
             "\",\"weight\":" + std::to_string(pick(4) * 50) + "}";
    return "[" + out + "]";
  }

  void createRoute() {
    std::string body = "{\"prefixPath\":\"/p" + std::to_string(pick(10)) + "/\",\"host\":\"" +
                       oneOf<std::string>({"", "a.example", "b.example"}) + "\",\"balancer\":\"" +
                       oneOf<std::string>({"round_robin", "least_conn", "ip_hash"}) + "\"";
    if (pick(2)) body += ",\"targets\":" + targetList();
    if (pick(2)) body += "," + policy();
    if (pick(3) == 0) body += ",\"healthCheck\":{\"fall\":" + std::to_string(1 + pick(3)) + "}";
    check(admin_.call("POST", kRoutes, body + "}"));
  }

  void addTargets(const Poco::JSON::Object::Ptr& route) {
    std::string body = keyOf(route) + ",\"targets\":" + targetList();
    // A health check given with an add: a route.health_check row.
    if (pick(3) == 0)
      body += ",\"healthCheck\":{\"rise\":" + std::to_string(1 + pick(3)) + ",\"slowStart\":\"" +
              std::to_string(pick(3)) + "s\"}";
    check(admin_.call("POST", "/endpoints/add", body + "}"));
  }

  /// One policy field with a value: `"name":value`. Two fields of one body differ by name.
  std::string policy(const std::string& not_ = "") {
    std::vector<std::string> all{
        "\"stripPrefix\":false",
        "\"stripPrefix\":true",
        "\"preserveHost\":true",
        "\"preserveHost\":false",
        "\"maxRequests\":" + std::to_string(pick(100)),
        "\"retries\":{\"attempts\":" + std::to_string(pick(3)) + "}",
        "\"rateLimit\":{\"requestsPerSecond\":10,\"burst\":" + std::to_string(pick(9)) + "}",
        "\"timeouts\":{\"read\":\"" + std::to_string(1 + pick(9)) + "s\"}"};
    const auto name = [](const std::string& field) { return field.substr(0, field.find(':')); };
    all.erase(std::remove_if(all.begin(), all.end(),
                             [&](const std::string& f) { return name(f) == name(not_); }),
              all.end());
    return oneOf(all);
  }

  std::string routePatch() {
    switch (pick(3)) {
      case 0:
        return "{\"balancer\":\"" + oneOf<std::string>({"round_robin", "least_conn", "ip_hash"}) +
               "\"}";
      case 1:
        return "{\"healthCheck\":{\"fall\":" + std::to_string(1 + pick(3)) + "}}";
      default: {
        const auto first = policy();
        return "{" + first + "," + policy(first) + "}";
      }
    }
  }

  std::string targetPatch() {
    std::vector<std::string> fields;
    if (pick(2)) fields.push_back("\"weight\":" + std::to_string(pick(5) * 25));
    if (pick(2))
      fields.push_back("\"state\":\"" + oneOf<std::string>({"active", "draining", "disabled"}) +
                       "\"");
    if (fields.empty() || pick(3) == 0)
      fields.push_back("\"maxConnections\":" + std::to_string(pick(3)));
    std::string out;
    for (const auto& f : fields) out += (out.empty() ? "" : ",") + f;
    return "{" + out + "}";
  }

  /// PUT of the document with a route dropped, a weight changed and maybe a route added.
  void putEdited(const Poco::JSON::Object::Ptr& document) {
    auto routes = document->getArray("routes");
    if (routes->size() > 1 && pick(2)) routes->remove(static_cast<unsigned>(pick(routes->size())));
    for (std::size_t i = 0; i < routes->size(); ++i) {
      auto targets = routes->getObject(static_cast<unsigned>(i))->getArray("targets");
      if (targets->size() > 0)
        targets->getObject(static_cast<unsigned>(pick(targets->size())))
            ->set("weight", static_cast<int>(pick(10) * 10));
    }
    std::ostringstream body;
    document->stringify(body);
    check(admin_.call("PUT", "/endpoints/config", body.str()));
  }

  const Admin& admin_;
  std::mt19937 rng_;
};

}  // namespace

void ConfigApiTest::testRevertGivesBackEverySnapshot() {
  const auto started = std::chrono::steady_clock::now();
  Admin admin;
  unsigned seed = 23;
  if (const char* s = std::getenv("PORTICO_CONFIG_SEED"))
    seed = static_cast<unsigned>(std::stoul(s));
  std::cerr << "[config property test: seed " << seed << ", PORTICO_CONFIG_SEED to repeat]\n";
  std::mt19937 rng(seed);
  RandomChanges changes(admin, seed);
  std::map<std::int64_t, std::string> snapshots;  // revision -> its routes, as GET gave them
  const auto record = [&] {
    const auto r = admin.config();
    const auto [it, fresh] = snapshots.emplace(Admin::revisionOf(r), routesOf(r.body));
    CPPUNIT_ASSERT_EQUAL_MESSAGE("one revision, one document", it->second, routesOf(r.body));
    return parseObject(r);
  };
  auto document = record();
  const std::int64_t first = snapshots.begin()->first;
  for (int i = 0; i < 200; ++i) {
    // Now and then a revert in the sequence too, so reverts walk back over reverts.
    if (i % 40 == 39) {
      auto it = snapshots.begin();
      std::advance(it, static_cast<long>(rng() % snapshots.size()));
      admin.ok("POST", "/endpoints/revert", "{\"revision\":" + std::to_string(it->first) + "}");
    } else {
      changes.apply(document);
    }
    document = record();
  }
  std::vector<std::int64_t> sample{first};
  std::vector<std::int64_t> recorded;
  for (const auto& [revision, routes] : snapshots) recorded.push_back(revision);
  std::shuffle(recorded.begin(), recorded.end(), rng);
  sample.insert(sample.end(), recorded.begin(),
                recorded.begin() + std::min<long>(15, recorded.size()));
  for (const auto revision : sample) {
    const auto expected = snapshots.at(revision);
    const auto dry = admin.ok("POST", "/endpoints/revert?dryRun=true",
                              "{\"revision\":" + std::to_string(revision) + "}");
    const auto r =
        admin.ok("POST", "/endpoints/revert", "{\"revision\":" + std::to_string(revision) + "}");
    CPPUNIT_ASSERT_EQUAL(changeCount(dry), changeCount(r));
    CPPUNIT_ASSERT_EQUAL_MESSAGE("revert to " + std::to_string(revision), expected,
                                 routesOf(admin.config().body));
  }
  const auto verdicts = parseObject(admin.ok("GET",
                                             "/endpoints/changes?since=0&limit=1000&"
                                             "target=http://127.0.0.1:9"))
                            ->getArray("changes");
  std::size_t health = 0;
  for (std::size_t i = 0; i < verdicts->size(); ++i)
    health += verdicts->getObject(static_cast<unsigned>(i))->getValue<std::string>("action") ==
              "target.health";
  std::cerr << "[" << snapshots.size() << " revisions recorded (" << health
            << " health verdicts among them), " << sample.size() << " reverts, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms]\n";
}
