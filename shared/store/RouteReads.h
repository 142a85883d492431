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

/// Every route with its targets, in prefix order.
std::vector<RouteRecord> readRoutes(SqlTransaction& tx);
/// The route with `prefix` and its targets, or none.
std::optional<RouteRecord> readRoute(SqlTransaction& tx, const std::string& prefix);
/// The first `limit` routes (all when 0) whose prefix sorts after `after`, byte by byte (as
/// SQLite sorts, whatever the database's collation), with their targets.
std::vector<RouteRecord> readRoutePage(SqlTransaction& tx, const std::string& after,
                                       std::size_t limit);

}  // namespace portico
