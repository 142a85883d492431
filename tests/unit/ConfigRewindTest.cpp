// ConfigRewind (issue #23): the stored routes with newer history rows undone, as tables of
// rows in the shapes StoreWriter writes them. No store, no I/O.

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "admin/ApiError.h"
#include "admin/ConfigRewind.h"
#include "model/ModelJson.h"
#include "store/ChangeLog.h"

using portico::ApiError;
using portico::BalancerKind;
using portico::ChangeLog;
using portico::ChangeRecord;
using portico::ConfigRewind;
using portico::RouteRecord;
using portico::RouteSpec;
using portico::ServingState;
using portico::TargetRecord;

namespace {

TargetRecord target(const std::string& url, int weight = 100,
                    ServingState state = ServingState::Active, int maxConnections = 0) {
  TargetRecord t;
  t.url = url;
  t.weight = weight;
  t.state = state;
  t.maxConnections = maxConnections;
  return t;
}

RouteRecord route(const std::string& prefix, std::vector<TargetRecord> targets = {}) {
  RouteRecord r;
  r.prefix = prefix;
  r.targets = std::move(targets);
  return r;
}

std::string json(const Poco::JSON::Object::Ptr& o) {
  return portico::toJsonText(o);
}

ChangeRecord row(const std::string& action, const std::string& prefix, const std::string& url,
                 const std::string& before, const std::string& after = "") {
  ChangeRecord c;
  c.revision = 9;
  c.action = action;
  c.route = prefix;
  c.target = url;
  c.before = before;
  c.after = after;
  return c;
}

std::string routeSettings(BalancerKind balancer = BalancerKind::RoundRobin) {
  RouteRecord r;
  return json(ChangeLog::routeJson(balancer, r.health, r.policies));
}

/// "prefix balancer fall [url weight state max]..." of each route, one a line.
std::string shown(const std::vector<RouteSpec>& routes) {
  std::string out;
  for (const auto& r : routes) {
    out += r.host + r.prefix + " " + portico::toString(r.balancer) + " " +
           std::to_string(r.health.fall);
    for (const auto& t : r.targets)
      out += " [" + t.url + " " + std::to_string(t.weight) + " " + portico::toString(t.state) +
             " " + std::to_string(t.maxConnections) + "]";
    out += "\n";
  }
  return out;
}

const char* const A = "http://a:1";
const char* const B = "http://b:1";

}  // namespace

class ConfigRewindTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConfigRewindTest);
  CPPUNIT_TEST(testTable);
  CPPUNIT_TEST(testUnreadableRowsRefuse);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTable() {
    struct Case {
      const char* name;
      std::vector<RouteRecord> current;
      std::vector<ChangeRecord> newer;
      std::string expected;
    };
    const auto weight = [](int w) { return "{\"weight\":" + std::to_string(w) + "}"; };
    const std::vector<Case> cases{
        {"no rows: the stored state",
         {route("/a/", {target(A)})},
         {},
         "/a/ round_robin 1 [http://a:1 100 active 0]\n"},
        {"a weight, twice: back to the first before",
         {route("/a/", {target(A, 7)})},
         {row("target.weight", "/a/", A, weight(100), weight(5)),
          row("target.weight", "/a/", A, weight(5), weight(7))},
         "/a/ round_robin 1 [http://a:1 100 active 0]\n"},
        {"a created route with its targets goes",
         {route("/a/"), route("/b/", {target(B)})},
         {row("route.create", "/b/", "", "", routeSettings()),
          row("target.add", "/b/", B, "", json(ChangeLog::targetJson(target(B))))},
         "/a/ round_robin 1\n"},
        {"a deleted route comes back with its targets as they were",
         {},
         {row("target.remove", "/b/", B,
              json(ChangeLog::targetJson(target(B, 3, ServingState::Draining, 4)))),
          row("route.delete", "/b/", "", routeSettings(BalancerKind::IpHash))},
         "/b/ ip_hash 1 [http://b:1 3 draining 4]\n"},
        {"route.update and route.health_check restore their fields",
         {[] {
           auto r = route("/a/");
           r.balancer = BalancerKind::LeastConn;
           r.health.fall = 4;
           return r;
         }()},
         {row("route.update", "/a/", "", "{\"balancer\":\"round_robin\"}",
              "{\"balancer\":\"least_conn\"}"),
          row("route.health_check", "/a/", "", json(portico::healthCheckJson({})))},
         "/a/ round_robin 1\n"},
        {"state and maxConnections; verdicts stay as they are",
         {route("/a/", {target(A, 100, ServingState::Disabled, 9)})},
         {row("target.state", "/a/", A, "{\"state\":\"draining\"}", "{\"state\":\"disabled\"}"),
          row("target.health", "/a/", A, "{\"healthy\":true}", "{\"healthy\":false}"),
          row("target.max_connections", "/a/", A, "{\"maxConnections\":0}",
              "{\"maxConnections\":9}")},
         "/a/ round_robin 1 [http://a:1 100 draining 0]\n"},
        {"a removed target comes back; an added one goes",
         {route("/a/", {target(B)})},
         {row("target.remove", "/a/", A, json(ChangeLog::targetJson(target(A, 0)))),
          row("target.add", "/a/", B, "", json(ChangeLog::targetJson(target(B))))},
         "/a/ round_robin 1 [http://a:1 0 active 0]\n"},
    };
    for (const auto& c : cases)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.name, c.expected,
                                   shown(ConfigRewind::undo(c.current, c.newer)));
  }

  void testUnreadableRowsRefuse() {
    const std::vector<RouteRecord> current{route("/a/", {target(A)})};
    const std::vector<std::vector<ChangeRecord>> refused{
        {row("route.rename", "/a/", "", "{}")},
        {row("target.weight", "/a/", A, "not json", weight100())},
        {row("target.weight", "/a/", A, "{\"weight\":-1}", weight100())},
        {row("target.weight", "/a/", B, weight100(), weight100())},  // not on the route
        {row("route.update", "/b/", "", "{\"balancer\":\"ip_hash\"}")},
    };
    for (const auto& rows : refused) {
      try {
        ConfigRewind::undo(current, rows);
        CPPUNIT_FAIL("undone: " + rows[0].action + " " + rows[0].before);
      } catch (const ApiError& e) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), 409, e.status());
        CPPUNIT_ASSERT_MESSAGE(e.what(),
                               std::string(e.what()).find("revision 9") != std::string::npos);
      }
    }
  }

 private:
  static std::string weight100() { return "{\"weight\":100}"; }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigRewindTest);
