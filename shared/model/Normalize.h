#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico {

/// "api", "/api" and "/api/" all become "/api/"; "/" stays "/". Throws InvalidInput on
/// empty input, text that is not UTF-8, whitespace/control characters (C0, DEL, C1), '?', '#',
/// '%', '\', "." or ".." segments, or > 1 KiB.
std::string normalizePrefix(std::string_view raw);

/// A route's host as stored and matched: "" (any host), an exact name ("api.example.com"), a
/// wildcard whose whole leading label is '*' ("*.example.com"), an IPv4 literal or an IPv6
/// literal in brackets ("[::1]"; a bare "::1" gets them). Lowercased; one trailing dot dropped.
/// Throws InvalidInput on spaces or control characters, a port, '*' alone or anywhere but as
/// the whole leading label, an empty label, a label over 63 or a name over 253 bytes, or
/// characters outside [a-z0-9-.] (an international name goes in its xn-- form).
std::string normalizeHost(std::string_view raw);

/// A backend address: http(s)://host[:port][/base], parsed once and kept canonical.
struct TargetUrl {
  std::string host;       // lower-cased; IPv6 without brackets
  std::uint16_t port{};   // 80 (http) or 443 (https) when absent
  std::string basePath;   // "" or "/base" without a trailing slash, ASCII, percent-encoded
  std::string canonical;  // "http(s)://host[:port][/base]"; the scheme's default port left out
  bool tls{false};        // https: the proxy and the health checker speak TLS to it

  /// "host:port" (brackets around IPv6), the value of X-Origin-Host.
  std::string authority() const;
};

/// Throws InvalidInput for schemes other than http and https, no host, a non-ASCII host, bad port,
/// spaces or control characters, text that is not UTF-8, a '%' that starts no %XX escape,
/// query/fragment, user info, or URLs over 2 KiB. The canonical form is ASCII: the rest of the base
/// path is percent-encoded; parsing it again gives it back unchanged.
TargetUrl parseTargetUrl(std::string_view raw);

}  // namespace portico
