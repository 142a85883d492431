// The configuration document (issue #23): its fixed order, and its reader's refusals naming the
// JSON path of the first problem. No store, no I/O.

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "admin/AdminInput.h"
#include "admin/ApiError.h"
#include "admin/ConfigDocument.h"
#include "model/ModelJson.h"

using portico::ApiError;
using portico::HealthSpec;
using portico::RouteRecord;
using portico::ServingState;
using portico::TargetRecord;

namespace {

std::vector<portico::RouteSpec> read(const std::string& body) {
  return portico::readConfigDocument(*portico::parseJsonObject(body), HealthSpec{});
}

TargetRecord stored(const std::string& url, std::int64_t id, bool healthy) {
  TargetRecord t;
  t.id = id;
  t.url = url;
  t.healthy = healthy;
  t.lastError = healthy ? "" : "refused";
  return t;
}

}  // namespace

class ConfigDocumentTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConfigDocumentTest);
  CPPUNIT_TEST(testRefusalsNameThePath);
  CPPUNIT_TEST(testReadsWhatItWrites);
  CPPUNIT_TEST(testSameStateSameBytes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRefusalsNameThePath() {
    const std::string ok = R"({"prefixPath":"/o1/"},{"prefixPath":"/o2/"},{"prefixPath":"/o3/"})";
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"routes":[)" + ok +
             R"(,{"prefixPath":"/a/","targets":["http://a:1",{"target":"http://b:1","weight":5000}]}]})",
         "'routes[3].targets[1].weight'"},
        {R"({"routes":[{"prefixPath":"/a/","host":"x.example"},{"prefixPath":"/a","host":"X.example"}]})",
         "'routes[1]': route x.example/a/ is given twice (first at routes[0])"},
        {R"({"routes":[{"prefixPath":"/a/","targets":["http://a:1","http://a:1/"]}]})",
         "'routes[0].targets[1]': target http://a:1 is given twice"},
        {R"({"routes":[{"prefixPath":"/a/","colour":1}]})", "unknown field 'routes[0].colour'"},
        {R"({"routes":[{"host":"x.example"}]})", "missing field 'routes[0].prefixPath'"},
        {R"({"routes":[{"prefixPath":"/a/","healthCheck":{"fall":0}}]})",
         "'routes[0].healthCheck.fall'"},
        {R"({"routes":[{"prefixPath":"/a/","retries":{"attempts":-1}}]})",
         "'routes[0].retries.attempts'"},
        {R"({"routes":[{"prefixPath":"/a/","balancer":"random"}]})", "'routes[0].balancer'"},
        {R"({"routes":[{"prefixPath":"/a/","targets":[{"target":"http://a:1","state":"gone"}]}]})",
         "'routes[0].targets[0].state'"},
        {R"({"routes":[{"prefixPath":"/a/","targets":[{"weight":1}]}]})",
         "missing field 'routes[0].targets[0].target'"},
        {R"({"routes":[{"prefixPath":"/a/","targets":["ftp://a"]}]})", "'routes[0].targets[0]'"},
        {R"({"routes":[{"prefixPath":"/a/","targets":{}}]})", "'routes[0].targets': must be"},
        {R"({"routes":[7]})", "'routes[0]': must be an object"},
        {R"({"routes":{}})", "'routes': must be an array"},
        {R"({"revision":1})", "missing field 'routes'"},
        {R"({"routes":[],"extra":1})", "unknown field 'extra'"},
    };
    for (const auto& [body, expected] : cases) {
      try {
        read(body);
        CPPUNIT_FAIL("accepted: " + body);
      } catch (const ApiError& e) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(body, 400, e.status());
        CPPUNIT_ASSERT_MESSAGE(body + " -> " + e.what(),
                               std::string(e.what()).find(expected) != std::string::npos);
      }
    }
  }

  void testReadsWhatItWrites() {
    const auto routes = read(
        R"({"revision":99,"routes":[{"host":"x.example","prefixPath":"/a/","balancer":"ip_hash",)"
        R"("stripPrefix":false,"targets":["http://a:1",{"target":"http://b:1","weight":0,)"
        R"("state":"draining","maxConnections":3}]}]})");
    CPPUNIT_ASSERT_EQUAL(std::size_t{1}, routes.size());
    const auto& r = routes[0];
    CPPUNIT_ASSERT_EQUAL(std::string("x.example"), r.host);
    CPPUNIT_ASSERT_EQUAL(portico::BalancerKind::IpHash, r.balancer);
    CPPUNIT_ASSERT(!r.policies.request.stripPrefix);
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, r.targets.size());
    CPPUNIT_ASSERT_EQUAL(100, r.targets[0].weight);
    CPPUNIT_ASSERT_EQUAL(ServingState::Active, r.targets[0].state);
    CPPUNIT_ASSERT_EQUAL(0, r.targets[1].weight);
    CPPUNIT_ASSERT_EQUAL(ServingState::Draining, r.targets[1].state);
    CPPUNIT_ASSERT_EQUAL(3, r.targets[1].maxConnections);
  }

  void testSameStateSameBytes() {
    RouteRecord a;
    a.id = 2;
    a.prefix = "/b/";
    a.targets = {stored("http://z:1", 5, true), stored("http://c:1", 4, false)};
    RouteRecord b;
    b.id = 1;
    b.host = "a.example";
    b.prefix = "/a/";
    RouteRecord c;
    c.id = 3;
    c.prefix = "/a/";
    // Another order, other ids, other verdicts: the same desired state.
    auto a2 = a;
    a2.id = 7;
    a2.targets = {stored("http://c:1", 8, true), stored("http://z:1", 9, true)};
    const auto one = portico::toJsonText(portico::configJson(5, {a, b, c}));
    const auto two = portico::toJsonText(portico::configJson(5, {b, c, a2}));
    CPPUNIT_ASSERT_EQUAL(one, two);
    // host, then prefix; targets by URL; no verdicts, no ids.
    CPPUNIT_ASSERT(one.find("\"host\":\"\",\"prefixPath\":\"/a/\"") <
                   one.find("\"host\":\"\",\"prefixPath\":\"/b/\""));
    CPPUNIT_ASSERT(one.find("\"host\":\"\",\"prefixPath\":\"/b/\"") <
                   one.find("\"host\":\"a.example\""));
    CPPUNIT_ASSERT(one.find("http://c:1") < one.find("http://z:1"));
    CPPUNIT_ASSERT(one.find("healthy") == std::string::npos);
    CPPUNIT_ASSERT(one.find("\"id\"") == std::string::npos);
    CPPUNIT_ASSERT_EQUAL(0u, static_cast<unsigned>(one.find("{\"revision\":5,\"routes\":[")));
    // What it writes it reads back as the same state.
    const auto again = portico::readConfigDocument(*portico::parseJsonObject(one), HealthSpec{});
    CPPUNIT_ASSERT_EQUAL(std::size_t{3}, again.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://c:1"), again[1].targets[0].url);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigDocumentTest);
