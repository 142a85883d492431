#pragma once

#include <functional>
#include <memory>

#include "observe/ProxyMetrics.h"
#include "routing/RouteTable.h"

namespace portico {

/// What the metrics read of the route table `current` returns when scraped: readiness (a table
/// read from the store) and the per-target gauges (healthy, in rotation, weight, cooldown,
/// busy and idle connections).
ProxyMetrics::TableView tableView(
    const std::function<std::shared_ptr<const RouteTable>()>& current);

}  // namespace portico
