#include "routing/RequestHost.h"

namespace portico {
namespace {

bool isUpper(char c) {
  return c >= 'A' && c <= 'Z';
}

/// `raw` without its port: what follows the closing ']' of an IPv6 literal, or the last ':'.
std::string_view withoutPort(std::string_view raw) {
  if (!raw.empty() && raw.front() == '[') {
    const auto close = raw.find(']');
    return close == std::string_view::npos ? std::string_view() : raw.substr(0, close + 1);
  }
  return raw.substr(0, raw.find(':'));
}

}  // namespace

std::string_view RequestHost::of(std::string_view raw, std::string& scratch) {
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
  std::string_view host = withoutPort(raw);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  bool upper = false;
  for (const char c : host) upper = upper || isUpper(c);
  if (!upper) return host;
  scratch.assign(host);
  for (char& c : scratch)
    if (isUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  return scratch;
}

std::string_view RequestHost::authorityOf(std::string_view target) {
  if (target.empty() || target.front() == '/') return {};
  const auto scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = target.substr(scheme + 3);
  return rest.substr(0, rest.find_first_of("/?#"));
}

}  // namespace portico
