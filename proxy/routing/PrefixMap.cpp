#include "routing/PrefixMap.h"

#include "routing/RoutePath.h"

namespace portico {

void PrefixMap::add(std::string_view prefix, std::uint32_t position) {
  byKey_.emplace(RoutePath::key(prefix), position);
}

std::size_t PrefixMap::find(std::string_view prefix) const {
  const auto it = byKey_.find(RoutePath::key(prefix));
  return it == byKey_.end() ? npos : it->second;
}

std::size_t PrefixMap::longest(std::string_view path) const {
  if (byKey_.empty()) return npos;
  // The path itself, then each of its prefixes ending just before a '/', longest first.
  auto it = byKey_.find(path);
  if (it != byKey_.end()) return it->second;
  for (std::size_t i = path.size(); i-- > 0;) {
    if (path[i] != '/') continue;
    it = byKey_.find(path.substr(0, i));
    if (it != byKey_.end()) return it->second;
  }
  return npos;
}

}  // namespace portico
