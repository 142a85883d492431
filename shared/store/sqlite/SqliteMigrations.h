#pragma once

#include <vector>

#include "store/Migrations.h"

namespace portico {

class SqliteConnection;

/// Applies the migrations past `PRAGMA user_version`, each in its own transaction.
/// Throws StoreError when the store is newer than `all`; with `mayUpgrade` false, throws
/// StoreNotReady when it is older. Returns the resulting version.
int migrate(SqliteConnection& conn, const std::vector<Migration>& all, bool mayUpgrade);

}  // namespace portico
