#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <vector>

#include "model/Model.h"
#include "store/ConfigDiff.h"

namespace portico {

// The configuration as one document (GET and PUT /endpoints/config): the desired state, no
// health verdicts, in one fixed order so the same state always gives the same bytes.

/// {"revision", "routes": [{"host", "prefixPath", "balancer", "healthCheck", every route policy
/// field, "targets": [{"target", "weight", "state", "maxConnections"}]}]}: routes by (host,
/// prefixPath), targets by URL.
Poco::JSON::Object::Ptr configJson(std::int64_t revision, const std::vector<RouteRecord>& routes);

/// A PUT's document read into the routes it describes, with the readers of the route and target
/// endpoints: fields a route body takes (`healthCheck` over `healthDefaults`), targets as
/// {"target", "weight", "state", "maxConnections"} (all but `target` optional) or URL strings;
/// `revision` ignored. An ApiError(400) names the JSON path of the first problem
/// ("invalid field 'routes[3].targets[1].weight': ..."), a (host, prefixPath) or a target given
/// twice included.
std::vector<RouteSpec> readConfigDocument(const Poco::JSON::Object& document,
                                          const HealthSpec& healthDefaults);

/// {"revision", "changes": [{"action", "route", "host", "target", "before", "after"}]}: the
/// changes in the history's shapes (route: the prefix; target null for a route's own change).
Poco::JSON::Object::Ptr changesJson(std::int64_t revision,
                                    const std::vector<ConfigChange>& changes);

}  // namespace portico
