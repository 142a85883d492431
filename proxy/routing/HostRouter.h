#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routing/PrefixMap.h"

namespace portico {

struct Route;

/// Which route serves a (host, path): the routes of the request's exact host first, then those
/// of the wildcards that cover it from the longest suffix ("*.b.example.com" before
/// "*.example.com"), then the any-host routes; within the first group holding a route whose
/// prefix matches, the longest prefix wins (a host whose routes miss the path falls through,
/// as in Kong and Traefik). The cost is one hash lookup per group tried and per '/' of the
/// path, whatever the number of hosts: exact hosts are hashed, wildcards found by walking the
/// request host's labels.
///
/// Routes are positions in the table's route list, and the keys are the index's own copy of
/// the hosts and prefixes: a table patched without adding or removing a route (a target added,
/// a weight or policy changed) keeps every position and shares its predecessor's index rather
/// than building one (at 25,000 routes the build was most of a change's cost on the proxy).
class HostRouter {
 public:
  static constexpr std::size_t npos = PrefixMap::npos;

  HostRouter() = default;
  /// The index of `routes` (in the table's order: a route's position is its index there).
  explicit HostRouter(const std::vector<std::shared_ptr<const Route>>& routes);
  HostRouter(const HostRouter&) = delete;
  HostRouter& operator=(const HostRouter&) = delete;

  /// `host` as RequestHost leaves it (lowercase, no port, no trailing dot; "" for none: then
  /// only the any-host routes are tried). `path` without its query. A position, or npos.
  std::size_t match(std::string_view host, std::string_view path) const;
  /// The position of the route of exactly this host and normalised prefix, or npos.
  std::size_t find(std::string_view host, std::string_view prefix) const;
  bool empty() const { return any_.empty() && !hasHosts(); }
  /// Whether any route names a host (else the request's host plays no part in routing).
  bool hasHosts() const { return !exact_.empty() || !wildcard_.empty(); }

 private:
  /// Adds the route at `position` to the group of its host ("" any, "*.suffix" a wildcard, else
  /// exact); `host` and `prefix` are views into text_.
  void add(std::string_view host, std::string_view prefix, std::uint32_t position);

  std::unique_ptr<char[]> text_;  // every route's host and prefix, which the keys view
  PrefixMap any_;
  std::unordered_map<std::string_view, PrefixMap> exact_;
  std::unordered_map<std::string_view, PrefixMap> wildcard_;  // "example.com" for "*.example.com"
};

}  // namespace portico
