#include "store/StoreLocation.h"

namespace portico {

std::string StoreLocation::redact(const std::string& url) {
  std::string out = url;
  // postgresql://user:password@host/...: the userinfo ends at the last '@' before the path.
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto slash = out.find('/', start);
    const auto at = out.rfind('@', slash == std::string::npos ? std::string::npos : slash);
    if (at != std::string::npos && at > start) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ?password=... or key=value conninfo: "password=..." up to '&' or a space.
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    const auto value = pos + 9;
    const auto end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

std::string StoreLocation::describe() const {
  return postgres() ? "store.url " + redact(url) : "store.path " + path;
}

}  // namespace portico
