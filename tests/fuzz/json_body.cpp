// parseJsonObject: every admin request body before it is read into a spec. What it accepts is
// UTF-8 JSON that POCO writes back and reads again to the same text.

#include <Poco/JSON/Object.h>

#include <sstream>

#include "AdminInput.h"
#include "ApiError.h"
#include "FuzzCheck.h"
#include "StrictJson.h"

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
  return 0;
}
