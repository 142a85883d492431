#include "AdminJson.h"

#include <Poco/JSON/Array.h>

#include <sstream>

#include "Duration.h"
#include "Utf8.h"

namespace portico {
namespace {

Poco::Dynamic::Var textOrNull(const std::string& text) {
  if (text.empty()) return Poco::Dynamic::Var();
  return text;
}

}  // namespace

Poco::JSON::Object::Ptr jsonObject() {
  return Poco::makeShared<Poco::JSON::Object>(Poco::JSON_PRESERVE_KEY_ORDER);
}

Poco::JSON::Object::Ptr targetJson(const TargetRecord& target) {
  auto o = jsonObject();
  o->set("target", target.url);
  o->set("healthy", target.healthy);
  o->set("lastCheckedAt", textOrNull(target.lastCheckedAt));
  o->set("lastChangedAt", textOrNull(target.lastChangedAt));
  o->set("lastError", textOrNull(target.lastError));
  return o;
}

Poco::JSON::Object::Ptr healthCheckJson(const HealthSpec& health) {
  auto o = jsonObject();
  o->set("interval", formatDuration(health.interval));
  o->set("timeout", formatDuration(health.timeout));
  o->set("type", toString(health.type));
  o->set("path", health.path);
  o->set("fall", health.fall);
  o->set("rise", health.rise);
  return o;
}

Poco::JSON::Object::Ptr routeJson(const RouteRecord& route) {
  auto o = jsonObject();
  o->set("prefixPath", route.prefix);
  o->set("balancer", toString(route.balancer));
  o->set("healthCheck", healthCheckJson(route.health));
  auto targets = Poco::makeShared<Poco::JSON::Array>();
  for (const auto& t : route.targets) targets->add(targetJson(t));
  o->set("targets", targets);
  return o;
}

std::string toJsonText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  // POCO copies bytes that are not UTF-8 into the text as they are; an answer must decode
  // even when the store holds such text from an older version (a probe's error, a path).
  return toValidUtf8(out.str());
}

}  // namespace portico
