#include "admin/ConfigDocument.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "admin/AdminInput.h"
#include "admin/ApiError.h"
#include "admin/TargetInput.h"
#include "base/Errors.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"
#include "store/ChangeLog.h"

namespace portico {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

/// `message` of a reader that read the object at `path`, made to name the field by its whole
/// path: "invalid field 'weight'" becomes "invalid field 'routes[3].targets[1].weight'".
std::string withPath(const std::string& path, const std::string& message) {
  static const std::string kField = "field '";
  const auto at = message.find(kField);
  if (at == std::string::npos) return path + ": " + message;
  const auto name = at + kField.size();
  return message.substr(0, name) + path + "." + message.substr(name);
}

/// What `read()` returns; its refusal (ApiError 400 or InvalidInput) as a 400 naming `path`.
template <typename F>
auto at(const std::string& path, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const ApiError& e) {
    if (e.status() != 400) throw;
    throw ApiError(400, withPath(path, e.what()));
  } catch (const InvalidInput& e) {
    throw ApiError(400, withPath(path, e.what()));
  }
}

ApiError invalid(const std::string& path, const std::string& why) {
  return ApiError(400, invalidFieldMessage(path, why));
}

/// One item of a route's `targets`: a URL, or {"target", "weight", "state", "maxConnections"}.
TargetSpec readTarget(const Var& item, const std::string& path) {
  if (item.isString()) return TargetSpec(canonicalTarget(item.extract<std::string>(), path));
  if (item.type() != typeid(Object::Ptr))
    throw invalid(path, "must be a URL string or an object {\"target\",\"weight\",\"state\"}");
  const auto& object = *item.extract<Object::Ptr>();
  return at(path, [&] {
    rejectUnknownFields(object, {"target", "weight", "state", "maxConnections"});
    if (!present(object, "target")) throw ApiError(400, "missing field 'target'");
    TargetSpec target(canonicalTarget(stringField(object, "target", "target"), "target"));
    // The rest is what a PATCH of the target takes, read by its reader.
    Object rest(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& name : object.getNames())
      if (name != "target" && present(object, name)) rest.set(name, object.get(name));
    if (rest.size() == 0) return target;
    const TargetUpdate update = readTargetUpdate(rest);
    target.weight = update.weight.value_or(kDefaultWeight);
    target.state = update.state.value_or(ServingState::Active);
    target.maxConnections = update.maxConnections.value_or(0);
    return target;
  });
}

std::vector<TargetSpec> readTargets(const Object& route, const std::string& path) {
  if (!present(route, "targets")) return {};
  const auto array = route.getArray("targets");
  if (!array) throw invalid(path + ".targets", "must be an array");
  std::vector<TargetSpec> targets;
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string item = path + ".targets[" + std::to_string(i) + "]";
    auto target = readTarget(array->get(static_cast<unsigned>(i)), item);
    const auto [first, fresh] = seen.emplace(target.url, i);
    if (!fresh)
      throw invalid(item, "target " + target.url + " is given twice (first at " + path +
                              ".targets[" + std::to_string(first->second) + "])");
    targets.push_back(std::move(target));
  }
  return targets;
}

RouteSpec readRoute(const Var& item, const std::string& path, const HealthSpec& healthDefaults) {
  if (item.type() != typeid(Object::Ptr)) throw invalid(path, "must be an object");
  const auto& object = *item.extract<Object::Ptr>();
  RouteSpec spec = at(path, [&] {
    std::set<std::string> known{"host", "prefixPath", "balancer", "healthCheck", "targets"};
    known.insert(routePolicyFields().begin(), routePolicyFields().end());
    rejectUnknownFields(object, known);
    RouteSpec s;
    s.prefix = readPrefixField(object);
    s.host = readHostField(object);
    s.balancer = readBalancerField(object);
    s.health = readHealthCheckField(object, healthDefaults).value_or(healthDefaults);
    readRoutePolicies(object, s.policies);
    return s;
  });
  spec.targets = readTargets(object, path);
  return spec;
}

bool hostFirst(const RouteRecord* a, const RouteRecord* b) {
  return std::tie(a->host, a->prefix) < std::tie(b->host, b->prefix);
}

Object::Ptr configTargetJson(const TargetRecord& target) {
  auto o = jsonObject();
  o->set("target", target.url);
  o->set("weight", target.weight);
  o->set("state", toString(target.state));
  o->set("maxConnections", target.maxConnections);
  return o;
}

Object::Ptr configRouteJson(const RouteRecord& route) {
  auto o = jsonObject();
  o->set("host", route.host);
  o->set("prefixPath", route.prefix);
  // The route's settings as its history rows hold them, in their order.
  const auto settings = ChangeLog::routeJson(route.balancer, route.health, route.policies);
  for (const auto& name : settings->getNames()) o->set(name, settings->get(name));
  std::vector<const TargetRecord*> targets;
  for (const auto& t : route.targets) targets.push_back(&t);
  std::sort(targets.begin(), targets.end(),
            [](const TargetRecord* a, const TargetRecord* b) { return a->url < b->url; });
  auto list = Poco::makeShared<Poco::JSON::Array>();
  for (const auto* t : targets) list->add(configTargetJson(*t));
  o->set("targets", list);
  return o;
}

Var objectOrNull(const Object::Ptr& object) {
  if (!object) return Var();
  return object;
}

}  // namespace

Object::Ptr configJson(std::int64_t revision, const std::vector<RouteRecord>& routes) {
  std::vector<const RouteRecord*> sorted;
  sorted.reserve(routes.size());
  for (const auto& r : routes) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), hostFirst);
  auto list = Poco::makeShared<Poco::JSON::Array>();
  for (const auto* r : sorted) list->add(configRouteJson(*r));
  auto o = jsonObject();
  o->set("revision", revision);
  o->set("routes", list);
  return o;
}

std::vector<RouteSpec> readConfigDocument(const Object& document,
                                          const HealthSpec& healthDefaults) {
  rejectUnknownFields(document, {"revision", "routes"});
  if (!present(document, "routes")) throw ApiError(400, "missing field 'routes'");
  const auto array = document.getArray("routes");
  if (!array) throw invalid("routes", "must be an array of routes");
  std::vector<RouteSpec> routes;
  std::map<std::pair<std::string, std::string>, std::size_t> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string path = "routes[" + std::to_string(i) + "]";
    auto route = readRoute(array->get(static_cast<unsigned>(i)), path, healthDefaults);
    const auto [first, fresh] = seen.emplace(std::make_pair(route.host, route.prefix), i);
    if (!fresh)
      throw invalid(path, "route " + route.key().text() + " is given twice (first at routes[" +
                              std::to_string(first->second) + "])");
    routes.push_back(std::move(route));
  }
  return routes;
}

Object::Ptr changesJson(std::int64_t revision, const std::vector<ConfigChange>& changes) {
  auto list = Poco::makeShared<Poco::JSON::Array>();
  for (const auto& c : changes) {
    auto o = jsonObject();
    o->set("action", c.action);
    o->set("route", c.route.prefix);
    o->set("host", c.route.host);
    o->set("target", c.target.empty() ? Var() : Var(c.target));
    o->set("before", objectOrNull(c.before));
    o->set("after", objectOrNull(c.after));
    list->add(o);
  }
  auto answer = jsonObject();
  answer->set("revision", revision);
  answer->set("changes", list);
  return answer;
}

}  // namespace portico
