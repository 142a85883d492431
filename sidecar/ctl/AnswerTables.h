#pragma once

#include <string>

namespace portico::ctl {

// The admin API's JSON answers as the human tables portico-ctl prints by default. Pure: JSON
// text in, table text out; a field the answer lacks prints as "-".

/// GET /endpoints/routes: ROUTE BALANCER HEALTH-CHECK TARGETS.
std::string routesTable(const std::string& json);
/// GET /endpoints/list: TARGET WEIGHT STATE HEALTH LAST-ERROR.
std::string targetsTable(const std::string& json);
/// GET /endpoints/changes (rows of "changes"): REV TIME ACTOR ACTION ROUTE TARGET CHANGE;
/// `header` false leaves the header line out (the pages of history --follow after the first).
std::string historyTable(const std::string& json, bool header = true);
/// The "changes" of PUT /endpoints/config and POST /endpoints/revert: ACTION ROUTE TARGET
/// CHANGE, then how many.
std::string diffTable(const std::string& json);
/// GET /endpoints/proxies: ID STATE REVISION ADDRESSES VERSION.
std::string proxiesTable(const std::string& json);
/// A route as messages name it: "api.example.com/v1/", or "/v1/" for the any-host route.
std::string routeName(const std::string& host, const std::string& prefix);
/// What one change did, from its before and after (JSON text): "weight 100 -> 50", the
/// fields of what was added, "removed".
std::string changeSummary(const std::string& beforeJson, const std::string& afterJson);

}  // namespace portico::ctl
