#pragma once

#include <cstdint>

#include "store/ChangeLog.h"

namespace portico {

class SqlTransaction;

/// The SQL of the `changes` table, the same on both databases.

/// Inserts `log`'s rows as `revision`, then deletes the oldest rows beyond `limit`.
void writeChanges(SqlTransaction& tx, const ChangeLog& log, std::int64_t revision,
                  std::int64_t limit);
/// One page of history after `query.since`, oldest first, within the caller's read
/// transaction; `revision` is the store's revision in that transaction.
ChangePage readChanges(SqlTransaction& tx, const ChangeQuery& query, std::int64_t revision);
/// The routes with the history after revision `since` (Store::historyAfter), within the
/// caller's read transaction.
HistoryAfter readHistoryAfter(SqlTransaction& tx, std::int64_t since);
/// The routes changed after revision `since` (Store::routesChangedSince), within the caller's
/// read transaction.
RouteChanges readRouteChanges(SqlTransaction& tx, std::int64_t since);

}  // namespace portico
