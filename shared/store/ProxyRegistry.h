#pragma once

#include "store/ProxyRecord.h"

namespace portico {

class SqlTransaction;

/// The SQL of the `proxies` table, the same on both databases, within the caller's
/// transaction: a proxy's report (its own row, and rows unseen for longer than it forgets),
/// and every row with the store's revision and clock.

/// Inserts or updates `report.id`'s row: last seen now (three beats ago when it is leaving);
/// applied now when the revision moved.
/// Then deletes rows not seen for `report.forgetAfterMs`.
void writeProxyReport(SqlTransaction& tx, const ProxyReport& report);
/// Every row, by id, with the store's revision and its clock's now.
ProxyRoster readProxyRoster(SqlTransaction& tx);

}  // namespace portico
