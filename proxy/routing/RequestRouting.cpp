#include "routing/RequestRouting.h"

#include "routing/RoutePath.h"

namespace portico {

RequestRouting RequestRouting::of(const RouteTable& table, std::string_view target) {
  RequestRouting r;
  if (RoutePath::hasDotSegment(RoutePath::path(target))) {
    auto resolved = RoutePath::resolveDotSegments(target);
    if (!resolved) {
      r.status = 400;
      r.message = "bad request path: '..' climbs above the root";
      return r;
    }
    r.resolved = std::move(*resolved);
  }
  r.route = table.match(r.resolved.empty() ? target : std::string_view(r.resolved));
  if (!r.route) {
    r.status = 404;
    r.message = "no route for " + std::string(RoutePath::path(target));
  }
  return r;
}

}  // namespace portico
