#include "admin/ConfigRewind.h"

#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <map>

#include "admin/AdminInput.h"
#include "admin/ApiError.h"
#include "base/Errors.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"

namespace portico {
namespace {

using Poco::JSON::Object;

/// The state being walked back: routes by key, each with its targets.
using State = std::map<RouteKey, RouteSpec>;

ApiError unreadable(const ChangeRecord& row, const std::string& why) {
  return ApiError(409, "cannot revert across the history row of revision " +
                           std::to_string(row.revision) + " (" + row.action + " " + row.host +
                           row.route + (row.target.empty() ? "" : " " + row.target) + "): " + why);
}

Object::Ptr before(const ChangeRecord& row) {
  try {
    Poco::JSON::Parser parser(Poco::makeShared<Poco::JSON::ParseHandler>(true));
    const auto parsed = parser.parse(row.before);
    if (parsed.type() == typeid(Object::Ptr)) return parsed.extract<Object::Ptr>();
  } catch (const Poco::Exception&) {
  }
  throw unreadable(row, "its 'before' is not a JSON object");
}

RouteSpec& routeOf(State& state, const ChangeRecord& row) {
  const auto it = state.find(RouteKey{row.host, row.route});
  if (it == state.end()) throw unreadable(row, "the route is not there to change back");
  return it->second;
}

std::vector<TargetSpec>::iterator targetOf(RouteSpec& route, const ChangeRecord& row) {
  const auto it = std::find_if(route.targets.begin(), route.targets.end(),
                               [&](const TargetSpec& t) { return t.url == row.target; });
  if (it == route.targets.end()) throw unreadable(row, "the target is not there to change back");
  return it;
}

/// Route settings a row's `before` holds (any of balancer, healthCheck, policy fields), over
/// `route`'s.
void restoreRoute(RouteSpec& route, const Object& was) {
  if (present(was, "balancer")) route.balancer = readBalancerField(was);
  if (auto health = readHealthCheckField(was, route.health)) route.health = *health;
  readRoutePolicies(was, route.policies);
}

TargetSpec restoredTarget(const std::string& url, const Object& was) {
  TargetSpec t(url);
  t.weight = static_cast<int>(integerField(was, "weight", "weight", 0, kMaxWeight));
  t.state = parseServingState(stringField(was, "state", "state"));
  if (present(was, "maxConnections"))
    t.maxConnections = static_cast<int>(
        integerField(was, "maxConnections", "maxConnections", 0, kMaxTargetConnections));
  return t;
}

void undoRow(State& state, const ChangeRecord& row) {
  const std::string& a = row.action;
  const RouteKey key{row.host, row.route};
  if (a == "target.health") return;  // a verdict, not desired state
  if (a == "route.create") {
    state.erase(key);
  } else if (a == "route.delete") {
    RouteSpec route;
    route.host = row.host;
    route.prefix = row.route;
    restoreRoute(route, *before(row));
    state[key] = std::move(route);
  } else if (a == "route.update") {
    restoreRoute(routeOf(state, row), *before(row));
  } else if (a == "route.health_check") {
    Object wrapped;
    wrapped.set("healthCheck", before(row));
    restoreRoute(routeOf(state, row), wrapped);
  } else if (a == "target.add") {
    auto& route = routeOf(state, row);
    route.targets.erase(targetOf(route, row));
  } else if (a == "target.remove") {
    routeOf(state, row).targets.push_back(restoredTarget(row.target, *before(row)));
  } else if (a == "target.weight") {
    targetOf(routeOf(state, row), row)->weight =
        static_cast<int>(integerField(*before(row), "weight", "weight", 0, kMaxWeight));
  } else if (a == "target.state") {
    targetOf(routeOf(state, row), row)->state =
        parseServingState(stringField(*before(row), "state", "state"));
  } else if (a == "target.max_connections") {
    targetOf(routeOf(state, row), row)->maxConnections = static_cast<int>(
        integerField(*before(row), "maxConnections", "maxConnections", 0, kMaxTargetConnections));
  } else {
    throw unreadable(row, "an action a revert does not know");
  }
}

}  // namespace

std::vector<RouteSpec> ConfigRewind::undo(const std::vector<RouteRecord>& current,
                                          const std::vector<ChangeRecord>& newer) {
  State state;
  for (const auto& r : current) {
    RouteSpec spec;
    spec.host = r.host;
    spec.prefix = r.prefix;
    spec.balancer = r.balancer;
    spec.health = r.health;
    spec.policies = r.policies;
    for (const auto& t : r.targets) {
      TargetSpec target(t.url, t.weight);
      target.state = t.state;
      target.maxConnections = t.maxConnections;
      spec.targets.push_back(std::move(target));
    }
    state.emplace(r.key(), std::move(spec));
  }
  for (auto row = newer.rbegin(); row != newer.rend(); ++row) {
    try {
      undoRow(state, *row);
    } catch (const InvalidInput& e) {
      throw unreadable(*row, e.what());
    } catch (const ApiError& e) {
      if (e.status() == 409) throw;
      throw unreadable(*row, e.what());
    }
  }
  std::vector<RouteSpec> routes;
  routes.reserve(state.size());
  for (auto& [key, route] : state) routes.push_back(std::move(route));
  return routes;
}

}  // namespace portico
