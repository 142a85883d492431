#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "model/Model.h"

namespace portico {

class SqlTransaction;

/// The SQL that reads the `routes` and `targets` tables, the same on both databases: within
/// the caller's transaction, two queries however many routes (the routes, then their targets
/// in id order, each with the holder of its live health lease).

/// Every route with its targets, in (prefix, host) order.
std::vector<RouteRecord> readRoutes(SqlTransaction& tx);
/// The route `key` names and its targets, or none.
std::optional<RouteRecord> readRoute(SqlTransaction& tx, const RouteKey& key);
/// The first `limit` routes (all when 0) whose (prefix, host) sorts after `after`'s, byte by
/// byte (as SQLite sorts, whatever the database's collation), with their targets; with `host`,
/// only the routes of that host.
std::vector<RouteRecord> readRoutePage(SqlTransaction& tx, const RouteKey& after, std::size_t limit,
                                       const std::optional<std::string>& host = std::nullopt);

}  // namespace portico
