#include "RoutePath.h"

namespace portico {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view lowerPrefix) {
  if (s.size() < lowerPrefix.size()) return false;
  for (std::size_t i = 0; i < lowerPrefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lowerPrefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view RoutePath::originForm(std::string_view target) {
  if (!target.empty() && target.front() == '/') return target;
  std::size_t schemeEnd = 0;
  if (startsWithNoCase(target, "http://")) {
    schemeEnd = 7;
  } else if (startsWithNoCase(target, "https://")) {
    schemeEnd = 8;
  } else {
    return {};
  }
  const std::size_t pathStart = target.find_first_of("/?", schemeEnd);
  if (pathStart == std::string_view::npos) return "/";
  // "http://h?q" has an empty path; the caller sees "?q" and treats it as "/?q".
  return target.substr(pathStart);
}

std::string_view RoutePath::path(std::string_view target) {
  const std::string_view origin = originForm(target);
  return origin.substr(0, origin.find('?'));
}

std::string_view RoutePath::key(std::string_view prefix) {
  if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  return prefix;
}

bool RoutePath::matches(std::string_view path, std::string_view prefix) {
  const std::string_view k = key(prefix);
  if (path.substr(0, k.size()) != k) return false;
  return path.size() == k.size() || path[k.size()] == '/';
}

std::string RoutePath::upstreamTarget(std::string_view target, std::string_view prefix,
                                      std::string_view basePath) {
  const std::string_view origin = originForm(target);
  const std::string_view k = key(prefix);
  const std::string_view rest =
      origin.size() >= k.size() ? origin.substr(k.size()) : std::string_view();
  std::string out;
  out.reserve(basePath.size() + rest.size() + 1);
  out.append(basePath);
  if (rest.empty() || rest.front() != '/') out.push_back('/');
  out.append(rest);
  return out;
}

}  // namespace portico
