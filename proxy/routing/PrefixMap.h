#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace portico {

/// The routes of one host group (one exact host, one wildcard, or every any-host route) by
/// prefix, answering "which of them has the longest prefix matching this path". Routes are
/// positions in the table's route list; keys are views into text the HostRouter owns.
class PrefixMap {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  void reserve(std::size_t n) { byKey_.reserve(n); }
  /// Adds the route at `position` under its normalised `prefix` (a view that outlives the map);
  /// the first route of a prefix stays.
  void add(std::string_view prefix, std::uint32_t position);
  bool empty() const { return byKey_.empty(); }
  /// The position of the route of exactly this normalised prefix, or npos.
  std::size_t find(std::string_view prefix) const;
  /// The position of the route whose prefix is the longest matching `path` (no query), or
  /// npos: a path matches a route when it equals the route's key or continues it with '/'.
  std::size_t longest(std::string_view path) const;

 private:
  std::unordered_map<std::string_view, std::uint32_t> byKey_;  // prefix minus its trailing slash
};

}  // namespace portico
