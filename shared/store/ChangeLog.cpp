#include "store/ChangeLog.h"

#include "model/ModelJson.h"

namespace portico {

void ChangeLog::add(const std::string& action, const std::string& route, const std::string& target,
                    const Poco::JSON::Object::Ptr& before, const Poco::JSON::Object::Ptr& after) {
  rows_.push_back(
      Row{action, route, target, before ? toJsonText(before) : "", after ? toJsonText(after) : ""});
}

Poco::JSON::Object::Ptr ChangeLog::targetJson(const TargetRecord& target) {
  auto o = jsonObject();
  o->set("weight", target.weight);
  o->set("state", toString(target.state));
  o->set("healthy", target.healthy);
  return o;
}

Poco::JSON::Object::Ptr ChangeLog::routeJson(const std::string& balancer,
                                             const HealthSpec& health) {
  auto o = jsonObject();
  o->set("balancer", balancer);
  o->set("healthCheck", healthCheckJson(health));
  return o;
}

}  // namespace portico
