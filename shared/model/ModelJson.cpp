#include "model/ModelJson.h"

#include <sstream>

#include "base/Duration.h"
#include "base/Utf8.h"

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
  // Only where it means something: history rows and answers of other checks stay as they were.
  if (health.type == ProbeType::Grpc) o->set("grpcService", health.grpcService);
  o->set("fall", health.fall);
  o->set("rise", health.rise);
  o->set("slowStart", formatDuration(health.slowStart));
  return o;
}

std::string toJsonText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  // POCO copies bytes that are not UTF-8 into the text as they are; an answer (or a history row)
  // must decode even when the store holds such text from an older version (a probe's error).
  return toValidUtf8(out.str());
}

}  // namespace portico
