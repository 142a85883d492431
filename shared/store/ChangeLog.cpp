#include "store/ChangeLog.h"

#include "model/ModelJson.h"

namespace portico {

void ChangeLog::add(const std::string& action, const RouteKey& route, const std::string& target,
                    const Poco::JSON::Object::Ptr& before, const Poco::JSON::Object::Ptr& after) {
  rows_.push_back(Row{action, route.prefix, route.host, target, before ? toJsonText(before) : "",
                      after ? toJsonText(after) : ""});
}

Poco::JSON::Object::Ptr ChangeLog::targetJson(const TargetRecord& target) {
  auto o = jsonObject();
  o->set("weight", target.weight);
  o->set("state", toString(target.state));
  o->set("healthy", target.healthy);
  // Only when set: the history of a target without a limit reads as it always has.
  if (target.maxConnections > 0) o->set("maxConnections", target.maxConnections);
  return o;
}

Poco::JSON::Object::Ptr ChangeLog::routeJson(BalancerKind balancer, const HealthSpec& health,
                                             const RoutePolicies& policies) {
  auto o = jsonObject();
  o->set("balancer", toString(balancer));
  o->set("healthCheck", healthCheckJson(health));
  writeRoutePolicies(policies, *o);
  return o;
}

std::pair<Poco::JSON::Object::Ptr, Poco::JSON::Object::Ptr> ChangeLog::routeDifference(
    const RouteRecord& before, const RouteRecord& after) {
  const auto was = routeJson(before.balancer, before.health, before.policies);
  const auto is = routeJson(after.balancer, after.health, after.policies);
  auto wasDiff = jsonObject();
  auto isDiff = jsonObject();
  // Compared by their JSON text, whatever the field's shape.
  auto text = [](const Poco::Dynamic::Var& v) {
    auto holder = jsonObject();
    holder->set("v", v);
    return toJsonText(holder);
  };
  for (const auto& name : is->getNames()) {
    const auto a = was->get(name);
    const auto b = is->get(name);
    if (text(a) == text(b)) continue;
    wasDiff->set(name, a);
    isDiff->set(name, b);
  }
  return {wasDiff, isDiff};
}

}  // namespace portico
