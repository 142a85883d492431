#pragma once

#include <memory>
#include <string_view>

#include "model/RoutePolicies.h"
#include "routing/RequestRules.h"

namespace portico {

/// A route's policies and the request rules made from them, immutable and shared: every route
/// with the default policies (most of a large table) holds the same one, and a rebuilt route
/// whose policies did not change keeps its own. The two take ~530 bytes, which per route of a
/// 25,000-route table was a quarter of issue 22's 1 KB per target.
struct RouteSettings {
  RoutePolicies policies;
  RequestRules rules;  // policies.request, ready for the request path

  /// The settings of a route of `prefix` with `policies`: `before`'s (the route's previous
  /// settings, of the same prefix; may be null) when they are the same, the shared default ones
  /// when `policies` are the defaults, else new ones.
  static std::shared_ptr<const RouteSettings> of(
      const RoutePolicies& policies, std::string_view prefix,
      const std::shared_ptr<const RouteSettings>& before);
};

}  // namespace portico
