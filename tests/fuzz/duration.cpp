// parseDuration / formatDuration: every duration key and healthCheck string.

#include "base/Duration.h"

#include "base/Errors.h"
#include "fuzz/FuzzCheck.h"

using namespace portico;
using namespace portico::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = text(data, size);
  std::chrono::milliseconds d{};
  try {
    d = parseDuration(in);
  } catch (const InvalidInput& e) {
    requireMessage(e.what());
    return 0;
  }
  require(d.count() >= 0 && d.count() <= 7LL * 24 * 3600 * 1000, "out of range",
          std::to_string(d.count()));
  const std::string shown = formatDuration(d);
  require(parseDuration(shown) == d, "formatDuration does not parse back", shown);
  require(formatDuration(parseDuration(shown)) == shown, "not a fixed point", shown);
  return 0;
}
