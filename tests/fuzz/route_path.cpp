// RoutePath: how the proxy maps a request target onto a route and an upstream target.
// Input: prefix '\n' base path '\n' request target.

#include "base/Errors.h"
#include "fuzz/FuzzCheck.h"
#include "model/Normalize.h"
#include "routing/RoutePath.h"

using namespace portico;
using namespace portico::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = text(data, size);
  const std::string_view rawPrefix = take(in, '\n');
  const std::string_view rawBase = take(in, '\n');
  const std::string_view target = in;

  std::string prefix = "/";
  try {
    prefix = normalizePrefix(rawPrefix);
  } catch (const InvalidInput&) {
  }
  std::string base;
  try {
    base = parseTargetUrl("http://h" + std::string(rawBase)).basePath;
  } catch (const InvalidInput&) {
  }

  const std::string_view origin = RoutePath::originForm(target);
  require(origin.empty() || origin.front() == '/' || origin.front() == '?', "origin form", origin);
  require(RoutePath::path(target).find('?') == std::string_view::npos, "path holds a query");
  RoutePath::hasDotSegment(RoutePath::path(target));

  const auto resolved = RoutePath::resolveDotSegments(target);
  if (!resolved) return 0;
  require(!resolved->empty() && resolved->front() == '/', "resolved target not absolute",
          *resolved);
  const std::string_view path = RoutePath::path(*resolved);
  require(!RoutePath::hasDotSegment(path), "dot segment left after resolving", *resolved);
  const auto again = RoutePath::resolveDotSegments(*resolved);
  require(again && *again == *resolved, "resolving is not a fixed point", *resolved);

  if (!RoutePath::matches(path, prefix)) return 0;
  const std::string upstream = RoutePath::upstreamTarget(*resolved, prefix, base);
  require(upstream.rfind(base + "/", 0) == 0, "upstream target leaves the base path", upstream);
  // Nothing reaches above the base path: the part after it has no dot segment either.
  require(!RoutePath::hasDotSegment(RoutePath::path(upstream.substr(base.size()))),
          "dot segment upstream", upstream);
  return 0;
}
