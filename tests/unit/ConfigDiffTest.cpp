// ConfigDiff (issue #23): desired routes against stored ones -> the history rows that make them
// equal, as tables. No store, no I/O.

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "model/ModelJson.h"
#include "store/ChangeLog.h"
#include "store/ConfigDiff.h"

using portico::BalancerKind;
using portico::ConfigChange;
using portico::ConfigDiff;
using portico::RouteRecord;
using portico::RouteSpec;
using portico::ServingState;
using portico::TargetRecord;
using portico::TargetSpec;

namespace {

TargetSpec want(const std::string& url, int weight = 100, ServingState state = ServingState::Active,
                int maxConnections = 0) {
  TargetSpec t(url, weight);
  t.state = state;
  t.maxConnections = maxConnections;
  return t;
}

RouteSpec route(const std::string& host, const std::string& prefix,
                std::vector<TargetSpec> targets = {}) {
  RouteSpec r;
  r.host = host;
  r.prefix = prefix;
  r.targets = std::move(targets);
  return r;
}

/// The stored form of `spec` as route `id`, its targets id*100+1 on; verdicts as given.
RouteRecord stored(const RouteSpec& spec, std::int64_t id, bool healthy = true) {
  RouteRecord r;
  r.id = id;
  r.host = spec.host;
  r.prefix = spec.prefix;
  r.balancer = spec.balancer;
  r.health = spec.health;
  r.policies = spec.policies;
  std::int64_t targetId = id * 100;
  for (const auto& t : spec.targets) {
    TargetRecord s;
    s.id = ++targetId;
    s.url = t.url;
    s.weight = t.weight;
    s.state = t.state;
    s.maxConnections = t.maxConnections;
    s.healthy = healthy;
    r.targets.push_back(s);
  }
  return r;
}

std::string text(const portico::ConfigChange& c) {
  return c.action + " " + c.route.text() + " " + (c.target.empty() ? "-" : c.target) + " " +
         (c.before ? portico::toJsonText(c.before) : "null") + " " +
         (c.after ? portico::toJsonText(c.after) : "null");
}

std::string lines(const std::vector<ConfigChange>& changes) {
  std::string out;
  for (const auto& c : changes) out += text(c) + "\n";
  return out;
}

const char* const A = "http://a:1";
const char* const B = "http://b:1";
const char* const C = "http://c:1";

}  // namespace

class ConfigDiffTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConfigDiffTest);
  CPPUNIT_TEST(testTable);
  CPPUNIT_TEST(testRouteSettings);
  CPPUNIT_TEST(testWhatApplyNeeds);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTable() {
    struct Case {
      const char* name;
      std::vector<RouteSpec> desired;
      std::vector<RouteSpec> current;
      std::string expected;
    };
    const std::vector<Case> cases{
        {"equal: nothing",
         {route("", "/a/", {want(A), want(B)})},
         {route("", "/a/", {want(B), want(A)})},
         ""},
        {"both empty", {}, {}, ""},
        {"a target added, one removed, one re-weighted",
         {route("", "/a/", {want(A, 5), want(C)})},
         {route("", "/a/", {want(A), want(B)})},
         "target.weight /a/ http://a:1 {\"weight\":100} {\"weight\":5}\n"
         "target.remove /a/ http://b:1 {\"weight\":100,\"state\":\"active\",\"healthy\":true} "
         "null\n"
         "target.add /a/ http://c:1 null {\"weight\":100,\"state\":\"active\",\"healthy\":true}\n"},
        {"state and maxConnections",
         {route("", "/a/", {want(A, 100, ServingState::Draining, 7)})},
         {route("", "/a/", {want(A)})},
         "target.max_connections /a/ http://a:1 {\"maxConnections\":0} "
         "{\"maxConnections\":7}\n"
         "target.state /a/ http://a:1 {\"state\":\"active\"} {\"state\":\"draining\"}\n"},
        {"a new target in a non-default state",
         {route("", "/a/", {want(A, 3, ServingState::Disabled, 2)})},
         {route("", "/a/")},
         "target.add /a/ http://a:1 null "
         "{\"weight\":3,\"state\":\"disabled\",\"healthy\":true,\"maxConnections\":2}\n"},
        {"routes by host then prefix; a delete lists its targets first",
         {route("b.example", "/a/", {want(A)}), route("", "/z/")},
         {route("a.example", "/a/", {want(B)})},
         "route.create /z/ - null " + std::string(createdJson()) +
             "\n"
             "target.remove a.example/a/ http://b:1 "
             "{\"weight\":100,\"state\":\"active\",\"healthy\":true} null\n"
             "route.delete a.example/a/ - " +
             createdJson() +
             " null\n"
             "route.create b.example/a/ - null " +
             createdJson() +
             "\n"
             "target.add b.example/a/ http://a:1 null "
             "{\"weight\":100,\"state\":\"active\",\"healthy\":true}\n"},
    };
    for (const auto& c : cases) {
      std::vector<RouteRecord> current;
      std::int64_t id = 0;
      for (const auto& r : c.current) current.push_back(stored(r, ++id));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.name, c.expected,
                                   lines(ConfigDiff::between(c.desired, current)));
    }
  }

  void testRouteSettings() {
    auto desired = route("", "/a/", {want(A)});
    desired.balancer = BalancerKind::IpHash;
    desired.health.fall = 3;
    desired.policies.request.stripPrefix = false;
    const auto changes = ConfigDiff::between({desired}, {stored(route("", "/a/", {want(A)}), 1)});
    CPPUNIT_ASSERT_EQUAL(std::size_t{1}, changes.size());
    CPPUNIT_ASSERT_EQUAL(std::string("route.update"), changes[0].action);
    // Only the fields that differ, as PATCH writes them.
    const auto before = portico::toJsonText(changes[0].before);
    const auto after = portico::toJsonText(changes[0].after);
    CPPUNIT_ASSERT(before.find("\"balancer\":\"round_robin\"") != std::string::npos);
    CPPUNIT_ASSERT(after.find("\"balancer\":\"ip_hash\"") != std::string::npos);
    CPPUNIT_ASSERT(after.find("\"fall\":3") != std::string::npos);
    CPPUNIT_ASSERT(after.find("\"stripPrefix\":false") != std::string::npos);
    CPPUNIT_ASSERT(after.find("retries") == std::string::npos);
    CPPUNIT_ASSERT_EQUAL(BalancerKind::IpHash, changes[0].routeSpec.balancer);
  }

  void testWhatApplyNeeds() {
    // Verdicts are no desired state: an unhealthy target that stays is no change.
    const auto same = route("", "/a/", {want(A)});
    CPPUNIT_ASSERT(ConfigDiff::between({same}, {stored(same, 1, false)}).empty());
    // Changes name the stored rows they touch; a new route's targets name none yet.
    const auto changes =
        ConfigDiff::between({route("", "/a/", {want(A, 9)}), route("", "/b/", {want(B)})},
                            {stored(route("", "/a/", {want(A)}), 4)});
    CPPUNIT_ASSERT_EQUAL(std::size_t{3}, changes.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t{401}, changes[0].targetId);
    CPPUNIT_ASSERT_EQUAL(9, changes[0].targetSpec.weight);
    CPPUNIT_ASSERT_EQUAL(std::string("route.create"), changes[1].action);
    CPPUNIT_ASSERT_EQUAL(std::int64_t{0}, changes[2].routeId);
    CPPUNIT_ASSERT_EQUAL(std::string(B), changes[2].targetSpec.url);
  }

 private:
  static std::string createdJson() {
    RouteSpec r;
    return portico::toJsonText(portico::ChangeLog::routeJson(r.balancer, r.health, r.policies));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigDiffTest);
