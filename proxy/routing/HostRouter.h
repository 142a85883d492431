#pragma once

#include <cstddef>
#include <string_view>
#include <unordered_map>

#include "routing/PrefixMap.h"

namespace portico {

struct Route;

/// Which route serves a (host, path): the routes of the request's exact host first, then those
/// of the wildcards that cover it from the longest suffix ("*.b.example.com" before
/// "*.example.com"), then the any-host routes; within the first group holding a route whose
/// prefix matches, the longest prefix wins (a host whose routes miss the path falls through,
/// as in Kong and Traefik). The cost is one hash lookup per group tried and per '/' of the
/// path, whatever the number of hosts: exact hosts are hashed, wildcards found by walking the
/// request host's labels. Keys are views into the routes, which the owning table keeps alive.
class HostRouter {
 public:
  /// Adds `route` to the group of its host ("" any, "*.suffix" a wildcard, else exact).
  void add(const Route* route);
  void reserve(std::size_t anyHost) { any_.reserve(anyHost); }

  /// `host` as RequestHost leaves it (lowercase, no port, no trailing dot; "" for none: then
  /// only the any-host routes are tried). `path` without its query.
  const Route* match(std::string_view host, std::string_view path) const;
  /// The route of exactly this host and normalised prefix, or null.
  const Route* find(std::string_view host, std::string_view prefix) const;
  bool empty() const { return any_.empty() && !hasHosts(); }
  /// Whether any route names a host (else the request's host plays no part in routing).
  bool hasHosts() const { return !exact_.empty() || !wildcard_.empty(); }

 private:
  PrefixMap any_;
  std::unordered_map<std::string_view, PrefixMap> exact_;
  std::unordered_map<std::string_view, PrefixMap> wildcard_;  // "example.com" for "*.example.com"
};

}  // namespace portico
