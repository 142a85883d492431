#include "ModelJson.h"

#include <sstream>

#include "Duration.h"

namespace portico {

Poco::JSON::Object::Ptr jsonObject() {
  return Poco::makeShared<Poco::JSON::Object>(Poco::JSON_PRESERVE_KEY_ORDER);
}

Poco::JSON::Object::Ptr healthCheckJson(const HealthSpec& health) {
  auto o = jsonObject();
  o->set("interval", formatDuration(health.interval));
  o->set("timeout", formatDuration(health.timeout));
  o->set("type", toString(health.type));
  o->set("path", health.path);
  o->set("fall", health.fall);
  o->set("rise", health.rise);
  o->set("slowStart", formatDuration(health.slowStart));
  return o;
}

std::string toJsonText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

}  // namespace portico
