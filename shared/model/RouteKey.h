#pragma once

#include <string>
#include <tuple>
#include <utility>

namespace portico {

/// What names a route: its host ("" for any host, an exact name, a "*." wildcard or an IP
/// literal, as normalizeHost() leaves it) and its normalised prefix. Built implicitly from a
/// prefix alone, which names the any-host route: every route that existed before routes had
/// hosts, and what a caller that gives no host means.
struct RouteKey {
  RouteKey() = default;
  RouteKey(std::string prefixPath) : prefix(std::move(prefixPath)) {}  // NOLINT: implicit
  RouteKey(const char* prefixPath) : prefix(prefixPath) {}             // NOLINT: implicit
  RouteKey(std::string hostName, std::string prefixPath)
      : host(std::move(hostName)), prefix(std::move(prefixPath)) {}

  std::string host;
  std::string prefix;

  /// "api.example.com/v1/", or "/v1/" for the any-host route: how logs and errors name it.
  std::string text() const { return host + prefix; }

  bool operator==(const RouteKey& o) const { return prefix == o.prefix && host == o.host; }
  bool operator!=(const RouteKey& o) const { return !(*this == o); }
  /// Prefix order first (the store's and the table's order), the host breaking ties.
  bool operator<(const RouteKey& o) const {
    return std::tie(prefix, host) < std::tie(o.prefix, o.host);
  }
};

}  // namespace portico
