#include "model/Normalize.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <optional>

#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {
namespace {

bool isUnsafe(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

bool isHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

/// Characters a URL path may hold as they are (RFC 3986 pchar and '/'); '%' is checked apart.
bool isPathChar(char c) {
  static constexpr std::string_view kMarks = "-._~!$&'()*+,;=:@/";  // unreserved, sub-delims
  return std::isalnum(static_cast<unsigned char>(c)) || kMarks.find(c) != std::string_view::npos;
}

/// The base path of a target URL in ASCII: valid %XX escapes kept, every other byte a path may
/// not hold as it is (non-ASCII UTF-8, '"', '<', '{'...) percent-encoded. Empty when a '%' does
/// not start an escape.
std::optional<std::string> percentEncodedPath(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return std::nullopt;
      if (!isHex(path[i + 1]) || !isHex(path[i + 2])) return std::nullopt;
      out.append(path, i, 3);
      i += 2;
    } else if (isPathChar(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string normalizePrefix(std::string_view raw) {
  const std::string shown = printable(raw, 64);
  if (raw.empty()) throw InvalidInput("prefixPath is empty");
  if (raw.size() > 1024) throw InvalidInput("prefixPath is longer than 1024 characters");
  if (!isValidUtf8(raw)) throw InvalidInput("prefixPath '" + shown + "' is not valid UTF-8");
  for (char c : raw) {
    if (isUnsafe(c))
      throw InvalidInput("prefixPath '" + shown + "' contains a space or control character");
    if (c == '?' || c == '#' || c == '%' || c == '\\')
      throw InvalidInput("prefixPath '" + shown + "' may not contain '" + std::string(1, c) + "'");
  }
  if (!isValidTextWithoutControls(raw))  // C1 controls, U+0080..U+009F
    throw InvalidInput("prefixPath '" + shown + "' contains a space or control character");
  std::string p(raw);
  if (p.front() != '/') p.insert(p.begin(), '/');
  if (p.back() != '/') p.push_back('/');
  if (p.find("//") != std::string::npos)
    throw InvalidInput("prefixPath '" + shown + "' has an empty segment");
  // Walk the segments: "." and ".." would make a prefix that no normalised request path matches.
  std::size_t start = 1;
  while (start < p.size()) {
    const std::size_t end = p.find('/', start);
    const std::string_view seg(p.data() + start, end - start);
    if (seg == "." || seg == "..")
      throw InvalidInput("prefixPath '" + shown + "' has a '" + std::string(seg) + "' segment");
    start = end + 1;
  }
  return p;
}

namespace {

/// The labels of a host name (the wildcard's '*' checked apart), per RFC 1035 2.3.4 and RFC
/// 1123 2.1 (a label may start with a digit): 1-63 bytes each of [a-z0-9-].
void requireLabels(std::string_view name, const std::string& shown) {
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    if (end == start) throw InvalidInput("host '" + shown + "' has an empty label");
    if (end - start > 63) throw InvalidInput("host '" + shown + "' has a label over 63 bytes");
    start = end + 1;
  }
}

std::string normalizeIpv6(std::string_view raw, const std::string& shown) {
  std::string_view inner = raw;
  if (raw.front() == '[') {
    const std::size_t close = raw.find(']');
    if (close == std::string_view::npos) throw InvalidInput("host '" + shown + "' has no ']'");
    if (close + 1 != raw.size())
      throw InvalidInput("host '" + shown + "' has a port; give the host alone");
    inner = raw.substr(1, close - 1);
  }
  const std::string v6 = lower(std::string(inner));
  if (v6.empty() || v6.find_first_not_of("0123456789abcdef:.") != std::string::npos)
    throw InvalidInput("host '" + shown + "' is not an IPv6 address");
  return "[" + v6 + "]";
}

/// Every byte printable ASCII: an international name comes in its xn-- (IDNA) form.
void requirePrintableAscii(std::string_view raw, const std::string& shown) {
  for (char c : raw) {
    if (isUnsafe(c))
      throw InvalidInput("host '" + shown + "' contains a space or control character");
    if (static_cast<unsigned char>(c) >= 0x80)
      throw InvalidInput("host '" + shown +
                         "' is not ASCII: send an international name in its xn-- form");
  }
}

/// A host name (lower case, no trailing dot) or a wildcard: '*' only as the whole first label.
void requireNameOrWildcard(std::string_view host, const std::string& shown) {
  std::string_view name = host;
  if (name.rfind("*.", 0) == 0) name.remove_prefix(2);
  for (char c : name) {
    if (c == '*')
      throw InvalidInput("host '" + shown +
                         "' may hold '*' only as its whole first label (*.example.com)");
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      throw InvalidInput("host '" + shown + "' may hold only letters, digits, '-' and '.'");
  }
  requireLabels(name, shown);
}

}  // namespace

std::string normalizeHost(std::string_view raw) {
  if (raw.empty()) return "";
  const std::string shown = printable(raw, 64);
  requirePrintableAscii(raw, shown);
  if (raw.front() == '[' || std::count(raw.begin(), raw.end(), ':') > 1)
    return normalizeIpv6(raw, shown);
  if (raw.find(':') != std::string_view::npos)
    throw InvalidInput("host '" + shown + "' has a port; give the host alone");
  std::string host = lower(std::string(raw));
  if (host.back() == '.') host.pop_back();
  if (host.size() > 253) throw InvalidInput("host '" + shown + "' is longer than 253 bytes");
  requireNameOrWildcard(host, shown);
  return host;
}

std::string TargetUrl::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {

/// Builds the refusal of one target URL: "target '<url>' is not http(s)://...: <why>".
class UrlRefusal {
 public:
  explicit UrlRefusal(std::string_view raw) : shown_(printable(raw, 80)) {}
  InvalidInput operator()(const std::string& why) const {
    return InvalidInput("target '" + shown_ + "' is not http(s)://host[:port][/base]: " + why);
  }

 private:
  std::string shown_;
};

/// The host of `authority` into url.host; returns the port's text ("" when none is given).
std::string parseAuthority(const std::string& authority, TargetUrl& url, const UrlRefusal& bad) {
  std::string portText;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string::npos) throw bad("unclosed '[' in IPv6 host");
    url.host = lower(authority.substr(1, close - 1));
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw bad("unexpected text after IPv6 host");
      portText = rest.substr(1);
      if (portText.empty()) throw bad("empty port");
    }
    if (url.host.empty() || url.host.find_first_not_of("0123456789abcdef:.") != std::string::npos)
      throw bad("invalid IPv6 host");
    return portText;
  }
  const std::size_t colon = authority.rfind(':');
  url.host = lower(authority.substr(0, colon));
  if (colon != std::string::npos) {
    portText = authority.substr(colon + 1);
    if (portText.empty()) throw bad("empty port");
  }
  for (char c : url.host) {
    if (static_cast<unsigned char>(c) >= 0x80)
      throw bad("the host must be ASCII (write an international name in its xn-- form)");
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
      throw bad("invalid character in host");
  }
  return portText;
}

std::uint16_t parsePort(const std::string& portText, std::uint16_t defaultPort,
                        const UrlRefusal& bad) {
  if (portText.empty()) return defaultPort;
  if (portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string::npos)
    throw bad("port is not a number");
  const long port = std::stol(portText);
  if (port < 1 || port > 65535) throw bad("port out of range 1-65535");
  return static_cast<std::uint16_t>(port);
}

void rejectUnsafeText(std::string_view raw, const UrlRefusal& bad) {
  if (raw.size() > 2048) throw bad("longer than 2048 characters");
  if (!isValidUtf8(raw)) throw bad("not valid UTF-8");
  for (char c : raw)
    if (isUnsafe(c)) throw bad("contains a space or control character");
  if (!isValidTextWithoutControls(raw)) throw bad("contains a space or control character");
}

}  // namespace

TargetUrl parseTargetUrl(std::string_view raw) {
  const UrlRefusal bad(raw);
  rejectUnsafeText(raw, bad);
  const std::string s(raw);
  const std::size_t schemeEnd = s.find("://");
  if (schemeEnd == std::string::npos) throw bad("missing scheme");
  const std::string scheme = lower(s.substr(0, schemeEnd));
  if (scheme != "http" && scheme != "https")
    throw bad("only the http and https schemes are supported");
  std::size_t pos = schemeEnd + 3;
  const std::size_t pathStart = s.find('/', pos);
  const std::string authority =
      s.substr(pos, pathStart == std::string::npos ? std::string::npos : pathStart - pos);
  std::string path = pathStart == std::string::npos ? "" : s.substr(pathStart);
  if (authority.find('@') != std::string::npos) throw bad("user info is not allowed");
  if (s.find_first_of("?#") != std::string::npos) throw bad("query and fragment are not allowed");

  TargetUrl url;
  url.tls = scheme == "https";
  const std::uint16_t defaultPort = url.tls ? 443 : 80;
  const std::string portText = parseAuthority(authority, url, bad);
  if (url.host.empty()) throw bad("no host");
  url.port = parsePort(portText, defaultPort, bad);
  while (!path.empty() && path.back() == '/') path.pop_back();
  // Stored and sent upstream in ASCII, one spelling: what a path may not hold as it is gets
  // percent-encoded here ("/café" is "/caf%C3%A9"), as a browser would.
  auto encoded = percentEncodedPath(path);
  if (!encoded) throw bad("'%' in the path must start a %XX escape");
  url.basePath = std::move(*encoded);
  const bool v6 = url.host.find(':') != std::string::npos;
  url.canonical = scheme + "://" + (v6 ? "[" + url.host + "]" : url.host) +
                  (url.port == defaultPort ? "" : ":" + std::to_string(url.port)) + url.basePath;
  assert(url.port != 0 && !url.host.empty());
  return url;
}

}  // namespace portico
