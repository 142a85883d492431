// parseJsonObject: every admin request body before it is read into a spec. What it accepts is
// UTF-8 JSON that POCO writes back and reads again to the same text. Then the target readers
// (the `targets` array with weights, a PATCH body): each refuses with a printable 400 or gives
// canonical URLs, weights within 0-1000 and a known state. And the configuration document
// (PUT /endpoints/config): a 400 naming a path, or routes with normalised keys, each once, and
// canonical targets, each once per route.

#include <Poco/JSON/Object.h>

#include <set>
#include <sstream>

#include "admin/AdminInput.h"
#include "admin/ApiError.h"
#include "admin/ConfigDocument.h"
#include "admin/StrictJson.h"
#include "admin/TargetInput.h"
#include "fuzz/FuzzCheck.h"
#include "model/Normalize.h"

using namespace portico;
using namespace portico::fuzz;

namespace {

std::string stringify(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(text(data, size));
  Poco::JSON::Object::Ptr object;
  try {
    object = parseJsonObject(body);
  } catch (const ApiError& e) {
    require(e.status() == 400, "not a 400");
    requireMessage(e.what());
    return 0;
  }
  require(isValidUtf8(body), "accepted a body that is not UTF-8", body);
  const std::string once = stringify(object);
  const auto again = parseStrictJson(once, 64).extract<Poco::JSON::Object::Ptr>();
  require(stringify(again) == once, "JSON text does not read back the same", once);
  try {
    for (const auto& t : readTargetSpecsField(*object, false)) {
      require(parseTargetUrl(t.url).canonical == t.url, "target not canonical", t.url);
      require(t.weight >= 0 && t.weight <= kMaxWeight, "weight out of range", t.url);
    }
  } catch (const ApiError& e) {
    require(e.status() == 400, "not a 400");
    requireMessage(e.what());
  }
  try {
    std::set<std::pair<std::string, std::string>> routes;
    for (const auto& r : readConfigDocument(*object, HealthSpec{})) {
      require(normalizePrefix(r.prefix) == r.prefix, "prefix not normalised", r.prefix);
      require(routes.emplace(r.host, r.prefix).second, "a route twice", r.host + r.prefix);
      std::set<std::string> urls;
      for (const auto& t : r.targets) {
        require(parseTargetUrl(t.url).canonical == t.url, "target not canonical", t.url);
        require(urls.insert(t.url).second, "a target twice", t.url);
        require(t.weight >= 0 && t.weight <= kMaxWeight, "weight out of range", t.url);
      }
    }
  } catch (const ApiError& e) {
    require(e.status() == 400, "not a 400");
    requireMessage(e.what());
  }
  try {
    const TargetUpdate update = readTargetUpdate(*object);
    require(update.weight || update.state, "an update that changes nothing");
    if (update.weight) require(*update.weight >= 0 && *update.weight <= kMaxWeight, "weight");
  } catch (const ApiError& e) {
    require(e.status() == 400, "not a 400");
    requireMessage(e.what());
  }
  return 0;
}
