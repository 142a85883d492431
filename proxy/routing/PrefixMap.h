#pragma once

#include <cstddef>
#include <string_view>
#include <unordered_map>

namespace portico {

struct Route;

/// The routes of one host group (one exact host, one wildcard, or every any-host route) by
/// prefix, answering "which of them has the longest prefix matching this path". Keys are views
/// into the routes' own prefixes, which outlive the map (the table owns both).
class PrefixMap {
 public:
  void reserve(std::size_t n) { byKey_.reserve(n); }
  /// Adds `route` under its prefix; the first route of a prefix stays.
  void add(const Route* route);
  bool empty() const { return byKey_.empty(); }
  /// The route of exactly this normalised prefix, or null.
  const Route* find(std::string_view prefix) const;
  /// The route whose prefix is the longest matching `path` (no query), or null: a path matches
  /// a route when it equals the route's key or continues it with '/'.
  const Route* longest(std::string_view path) const;

 private:
  std::unordered_map<std::string_view, const Route*> byKey_;  // prefix minus its trailing slash
};

}  // namespace portico
