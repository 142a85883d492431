#include "routing/RequestRouting.h"

#include "routing/RequestHost.h"
#include "routing/RoutePath.h"

namespace portico {

RequestRouting RequestRouting::of(const RouteTable& table, std::string_view target,
                                  std::string_view host) {
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
  const std::string_view authority = RequestHost::authorityOf(target);
  std::string scratch;
  const std::string_view name = RequestHost::of(authority.empty() ? host : authority, scratch);
  r.route = table.match(name, r.resolved.empty() ? target : std::string_view(r.resolved));
  if (!r.route) {
    r.status = 404;
    // The host is named once it takes part in routing (some route names one); until then the
    // answer stays what it was before routes had hosts.
    r.message = "no route for " + std::string(table.hasHostRoutes() ? name : std::string_view()) +
                std::string(RoutePath::path(target));
  }
  return r;
}

}  // namespace portico
