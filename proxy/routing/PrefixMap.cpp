#include "routing/PrefixMap.h"

#include <functional>

#include "routing/RoutePath.h"

namespace portico {

void PrefixMap::reserve(std::size_t n) {
  std::size_t capacity = 8;
  while (capacity < 2 * n) capacity *= 2;  // at most half full: short probe runs
  if (capacity > slots_.size()) rehash(capacity);
}

void PrefixMap::rehash(std::size_t capacity) {
  std::vector<Slot> old(capacity);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.key) slots_[probe({s.key, s.length})] = s;
  }
}

std::size_t PrefixMap::probe(std::string_view key) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = std::hash<std::string_view>()(key) & mask;
  while (slots_[i].key && std::string_view(slots_[i].key, slots_[i].length) != key)
    i = (i + 1) & mask;
  return i;
}

void PrefixMap::add(std::string_view prefix, std::uint32_t position) {
  if (2 * (size_ + 1) > slots_.size()) reserve(size_ + 1);
  const std::string_view key = RoutePath::key(prefix);
  Slot& slot = slots_[probe(key)];
  if (slot.key) return;  // the first route of a prefix stays
  slot = {key.data(), static_cast<std::uint32_t>(key.size()), position};
  ++size_;
}

std::size_t PrefixMap::lookup(std::string_view key) const {
  const Slot& slot = slots_[probe(key)];
  return slot.key ? slot.position : npos;
}

std::size_t PrefixMap::find(std::string_view prefix) const {
  return empty() ? npos : lookup(RoutePath::key(prefix));
}

std::size_t PrefixMap::longest(std::string_view path) const {
  if (empty()) return npos;
  // The path itself, then each of its prefixes ending just before a '/', longest first.
  std::size_t found = lookup(path);
  if (found != npos) return found;
  for (std::size_t i = path.size(); i-- > 0;) {
    if (path[i] != '/') continue;
    found = lookup(path.substr(0, i));
    if (found != npos) return found;
  }
  return npos;
}

}  // namespace portico
