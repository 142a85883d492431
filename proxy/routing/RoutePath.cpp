#include "routing/RoutePath.h"

#include <algorithm>
#include <vector>

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

/// Consumes one dot ("." or "%2e", any case) at the start of `s`; false when there is none.
bool eatDot(std::string_view& s) {
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    return true;
  }
  if (s.size() >= 3 && s[0] == '%' && s[1] == '2' && (s[2] == 'e' || s[2] == 'E')) {
    s.remove_prefix(3);
    return true;
  }
  return false;
}

/// 1 for a "." segment, 2 for "..", 0 for anything else.
int dots(std::string_view segment) {
  if (!eatDot(segment)) return 0;
  if (segment.empty()) return 1;
  if (!eatDot(segment)) return 0;
  return segment.empty() ? 2 : 0;
}

}  // namespace

bool RoutePath::hasDotSegment(std::string_view path) {
  // Cheap first: no '.' and no '%' means no dot segment, the case of nearly every request.
  if (path.find_first_of(".%") == std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (dots(path.substr(start, end - start)) > 0) return true;
    start = end + 1;
  }
  return false;
}

std::optional<std::string> RoutePath::resolveDotSegments(std::string_view target) {
  const std::string_view origin = originForm(target);
  const std::size_t queryAt = std::min(origin.find('?'), origin.size());
  const std::string_view path = origin.substr(0, queryAt);
  std::vector<std::string_view> kept;
  bool trailingSlash = false;  // "/a/." and "/a/b/.." name the directory "/a/"
  // The path starts with '/': segments are what follows each '/'.
  std::size_t start = path.empty() ? 0 : 1;
  while (start <= path.size() && !path.empty()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    switch (dots(segment)) {
      case 1:
        trailingSlash = last;
        break;
      case 2:
        if (kept.empty()) return std::nullopt;
        kept.pop_back();
        trailingSlash = last;
        break;
      default:
        kept.push_back(segment);
        trailingSlash = false;
    }
    start = end + 1;
  }
  std::string out;
  out.reserve(origin.size());
  for (const auto& segment : kept) {
    out.push_back('/');
    out.append(segment);
  }
  if (trailingSlash || out.empty()) out.push_back('/');
  out.append(origin.substr(queryAt));
  return out;
}

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
  std::string out;
  out.reserve(basePath.size() + target.size() + 1);
  appendUpstreamTarget(out, target, prefix, basePath);
  return out;
}

void RoutePath::appendUpstreamTarget(std::string& out, std::string_view target,
                                     std::string_view prefix, std::string_view basePath,
                                     std::string_view replacement) {
  const std::string_view origin = originForm(target);
  const std::string_view k = key(prefix);
  const std::string_view rest =
      origin.size() >= k.size() ? origin.substr(k.size()) : std::string_view();
  out.append(basePath);
  out.append(replacement);
  if (replacement.empty() && (rest.empty() || rest.front() != '/')) out.push_back('/');
  out.append(rest);
}

}  // namespace portico
