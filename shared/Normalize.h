#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico {

/// "api", "/api" and "/api/" all become "/api/"; "/" stays "/". Throws InvalidInput on
/// empty input, whitespace/control characters, '?', '#', '%', "." or ".." segments, or > 1 KiB.
std::string normalizePrefix(std::string_view raw);

/// A backend address: http://host[:port][/base], parsed once and kept canonical.
struct TargetUrl {
  std::string host;       // lower-cased; IPv6 without brackets
  std::uint16_t port{};   // 80 when absent
  std::string basePath;   // "" or "/base" without a trailing slash
  std::string canonical;  // "http://host[:port][/base]"; the default port 80 is left out

  /// "host:port" (brackets around IPv6), the value of X-Origin-Host.
  std::string authority() const;
};

/// Throws InvalidInput for other schemes, no host, bad port, spaces, query/fragment,
/// user info, or URLs over 2 KiB.
TargetUrl parseTargetUrl(std::string_view raw);

}  // namespace portico
