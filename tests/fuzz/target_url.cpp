// parseTargetUrl: every target URL of the API, the configuration and the store.

#include "base/Errors.h"
#include "fuzz/FuzzCheck.h"
#include "model/Normalize.h"

using namespace portico;
using namespace portico::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = text(data, size);
  TargetUrl url;
  try {
    url = parseTargetUrl(in);
  } catch (const InvalidInput& e) {
    requireMessage(e.what());
    return 0;
  }
  for (const char c : url.canonical)
    require(c > 0x20 && c < 0x7f, "canonical form is not printable ASCII", url.canonical);
  require(url.canonical.rfind(url.tls ? "https://" : "http://", 0) == 0,
          "canonical form without its scheme", url.canonical);
  require(!url.host.empty() && url.port != 0, "no host or port", url.canonical);
  require(url.basePath.empty() || (url.basePath.front() == '/' && url.basePath.back() != '/'),
          "base path shape", url.basePath);
  const TargetUrl again = parseTargetUrl(url.canonical);
  require(again.canonical == url.canonical && again.host == url.host && again.port == url.port &&
              again.basePath == url.basePath,
          "canonical form is not a fixed point", url.canonical + " -> " + again.canonical);
  require(!url.authority().empty(), "empty authority", url.canonical);
  return 0;
}
