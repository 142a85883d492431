#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico {

/// "api", "/api" and "/api/" all become "/api/"; "/" stays "/". Throws InvalidInput on
/// empty input, text that is not UTF-8, whitespace/control characters (C0, DEL, C1), '?', '#',
/// '%', '\', "." or ".." segments, or > 1 KiB.
std::string normalizePrefix(std::string_view raw);

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
