#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico {

/// Pure functions that map a request target onto a route prefix and an upstream target.
class RoutePath {
 public:
  /// The origin-form of a request target: itself when it starts with '/', the part after the
  /// authority for an absolute-form target ("http://h/a?q" -> "/a?q", "http://h?q" -> "/?q"),
  /// empty for anything else ("*", garbage).
  static std::string_view originForm(std::string_view target);

  /// The path of a request target: its origin-form up to '?'.
  static std::string_view path(std::string_view target);

  /// The key a normalised prefix is looked up by: the prefix minus its trailing slash
  /// ("/proxy/" -> "/proxy", "/" -> "").
  static std::string_view key(std::string_view prefix);

  /// True when `path` is under `prefix` (normalised, ending in '/'): it starts with the prefix,
  /// or equals the prefix without its trailing slash.
  static bool matches(std::string_view path, std::string_view prefix);

  /// True when a segment of `path` is "." or ".." ("%2e" counts as a dot, as in nginx).
  static bool hasDotSegment(std::string_view path);

  /// The origin-form of `target` with its "." and ".." segments resolved (RFC 3986 5.2.4; the
  /// query is kept as is), so "/api/../admin" is routed as "/admin" and nothing reaches a
  /// target above its route's prefix or base path. nullopt when ".." climbs above the root
  /// (nginx answers 400 there too).
  static std::optional<std::string> resolveDotSegments(std::string_view target);

  /// The upstream request target: the prefix minus its trailing slash is stripped from the
  /// request target and the rest joined to `basePath` ("" or "/base"); nothing left means "/".
  /// The request target must match the prefix.
  static std::string upstreamTarget(std::string_view target, std::string_view prefix,
                                    std::string_view basePath);
  /// upstreamTarget() appended to `out` (no allocation of its own on the request path).
  /// `replacement` takes the place of the prefix minus its trailing slash: "" strips it (as
  /// above), the prefix's own key keeps the whole path ("/api" stays "/api"), another key
  /// rewrites it ("/v2": "/api/x" -> "/v2/x"). Only an empty result becomes "/".
  static void appendUpstreamTarget(std::string& out, std::string_view target,
                                   std::string_view prefix, std::string_view basePath,
                                   std::string_view replacement = {});
};

}  // namespace portico
