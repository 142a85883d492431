// normalizePrefix: the prefixPath of every API call and of route.<name>.prefix.

#include "base/Errors.h"
#include "fuzz/FuzzCheck.h"
#include "model/Normalize.h"

using namespace portico;
using namespace portico::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = text(data, size);
  std::string prefix;
  try {
    prefix = normalizePrefix(in);
  } catch (const InvalidInput& e) {
    requireMessage(e.what());
    return 0;
  }
  require(normalizePrefix(prefix) == prefix, "not a fixed point", prefix);
  require(prefix.front() == '/' && prefix.back() == '/', "not /.../", prefix);
  require(prefix.find("//") == std::string::npos, "empty segment", prefix);
  require(isValidTextWithoutControls(prefix), "control character or bad UTF-8", prefix);
  require(prefix.find_first_of(" ?#%\\") == std::string::npos, "forbidden character", prefix);
  return 0;
}
