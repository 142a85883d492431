#include "store/RouteReads.h"

#include <chrono>
#include <cstdint>
#include <map>

#include "base/Errors.h"
#include "store/SqlTransaction.h"

namespace portico {
namespace {

constexpr const char* kRouteColumns =
    "SELECT id, prefix, balancer, health_interval_ms, health_timeout_ms, health_type, "
    "health_path, health_fall, health_rise, slow_start_ms, host, policies, health_grpc_service "
    "FROM routes ";

std::string targetColumns(const SqlDialect& dialect) {
  return std::string(
             "SELECT t.route_id, t.id, t.url, t.healthy, COALESCE(t.last_checked_at, ''), "
             "COALESCE(t.last_changed_at, ''), COALESCE(t.last_error, ''), t.weight, t.state, "
             "COALESCE(t.serving_since, ''), COALESCE(t.modified_at, ''), "
             "COALESCE(l.holder, ''), t.max_connections FROM targets t LEFT JOIN health_leases l "
             "ON "
             "l.target_id = t.id AND l.expires_at > ") +
         dialect.nowMs + " ";
}

RouteRecord routeOf(const SqlRows& r, std::size_t i) {
  RouteRecord route;
  route.id = r.integer(i, 0);
  route.prefix = r.text(i, 1);
  route.balancer = parseBalancer(r.text(i, 2));
  route.health.interval = std::chrono::milliseconds(r.integer(i, 3));
  route.health.timeout = std::chrono::milliseconds(r.integer(i, 4));
  route.health.type = parseProbeType(r.text(i, 5));
  route.health.path = r.text(i, 6);
  route.health.fall = static_cast<int>(r.integer(i, 7));
  route.health.rise = static_cast<int>(r.integer(i, 8));
  route.health.slowStart = std::chrono::milliseconds(r.integer(i, 9));
  route.host = r.text(i, 10);
  route.health.grpcService = r.text(i, 12);
  try {
    route.policies = parseStoredPolicies(r.text(i, 11));
  } catch (const InvalidInput& e) {
    throw StoreError("route " + route.host + route.prefix +
                     " has policies this version cannot read (" + e.what() + ")");
  }
  return route;
}

/// Row `i` of targetColumns, from its second column on.
TargetRecord targetOf(const SqlRows& t, std::size_t i) {
  TargetRecord target;
  target.id = t.integer(i, 1);
  target.url = t.text(i, 2);
  target.healthy = t.integer(i, 3) != 0;
  target.lastCheckedAt = t.text(i, 4);
  target.lastChangedAt = t.text(i, 5);
  target.lastError = t.text(i, 6);
  target.weight = static_cast<int>(t.integer(i, 7));
  target.state = parseServingState(t.text(i, 8));
  target.servingSince = t.text(i, 9);
  target.modifiedAt = t.text(i, 10);
  target.checkedBy = t.text(i, 11);
  target.maxConnections = static_cast<int>(t.integer(i, 12));
  return target;
}

/// The routes `routeFilter` selects (what follows FROM routes) with the targets
/// `targetFilter` selects (what follows the targets' FROM: theirs and maybe others, skipped).
std::vector<RouteRecord> readWith(SqlTransaction& tx, const std::string& routeFilter,
                                  const SqlParams& params, const std::string& targetFilter) {
  const auto r = tx.query(kRouteColumns + routeFilter, params);
  std::vector<RouteRecord> routes;
  routes.reserve(r.size());
  std::map<std::int64_t, std::size_t> index;
  for (std::size_t i = 0; i < r.size(); ++i) {
    routes.push_back(routeOf(r, i));
    index[routes.back().id] = i;
  }
  if (routes.empty()) return routes;
  const auto t = tx.query(targetColumns(tx.dialect()) + targetFilter, params);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto found = index.find(t.integer(i, 0));
    if (found != index.end()) routes[found->second].targets.push_back(targetOf(t, i));
  }
  return routes;
}

}  // namespace

std::vector<RouteRecord> readRoutes(SqlTransaction& tx) {
  return readWith(tx, "ORDER BY prefix, host", {}, "ORDER BY t.route_id, t.id");
}

std::optional<RouteRecord> readRoute(SqlTransaction& tx, const RouteKey& key) {
  auto routes = readWith(tx, "WHERE prefix = $1 AND host = $2", {key.prefix, key.host},
                         "WHERE t.route_id = (SELECT id FROM routes WHERE prefix = $1 AND host = "
                         "$2) ORDER BY t.id");
  if (routes.empty()) return std::nullopt;
  return std::move(routes.front());
}

std::vector<RouteRecord> readRoutePage(SqlTransaction& tx, const RouteKey& after, std::size_t limit,
                                       const std::optional<std::string>& host) {
  const std::string byteOrder = tx.dialect().byteOrder;
  const std::string prefix = "prefix" + byteOrder;
  const std::string hostKey = "host" + byteOrder;
  SqlParams params{after.prefix, after.host};
  std::string page = "WHERE (" + prefix + " > $1 OR (prefix = $1 AND " + hostKey + " > $2))";
  if (host) {
    params.emplace_back(*host);
    page += " AND host = $3";
  }
  page += " ORDER BY " + prefix + ", " + hostKey +
          (limit > 0 ? " LIMIT " + std::to_string(limit) : std::string());
  return readWith(
      tx, page, params,
      "WHERE t.route_id IN (SELECT id FROM routes " + page + ") ORDER BY t.route_id, t.id");
}

}  // namespace portico
