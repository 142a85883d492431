#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/Model.h"

namespace portico {

/// One change that makes the stored routes one step closer to a desired configuration, in the
/// change history's shapes: `action` is a history action (route.create, route.update,
/// route.delete, target.add, target.remove, target.weight, target.state,
/// target.max_connections) and `before`/`after` the JSON its history row holds (null where
/// there is none). The rest is what the store needs to make it.
struct ConfigChange {
  std::string action;
  RouteKey route;
  std::string target;  // the target's URL; empty for a change of the route itself
  Poco::JSON::Object::Ptr before;
  Poco::JSON::Object::Ptr after;

  std::int64_t routeId{0};    // the stored route; 0 for one the change set creates
  std::int64_t targetId{0};   // the stored target (target changes but target.add)
  RouteSpec routeSpec;        // route.create, route.update: the route as desired, no targets
  TargetSpec targetSpec{""};  // target changes: the target as desired
};

/// What it takes to turn the stored routes (`current`) into `desired` (PUT /endpoints/config,
/// POST /endpoints/revert): no I/O, no store. Routes are matched by (host, prefix) and taken
/// in that order; within a route, a route.update first (balancer, healthCheck, policies: the
/// fields that differ, as a route.update row holds them), then its targets by URL. A new route
/// is a route.create and a target.add per target; a route gone is a target.remove per target
/// and a route.delete (the rows a DELETE of the route writes). A target that stays is changed
/// in place (weight, state, maxConnections), never removed and added: it keeps its id and its
/// health verdict. Equal states give no change.
class ConfigDiff {
 public:
  /// `desired` holds each (host, prefix) once (the caller's check).
  static std::vector<ConfigChange> between(const std::vector<RouteSpec>& desired,
                                           const std::vector<RouteRecord>& current);
};

}  // namespace portico
