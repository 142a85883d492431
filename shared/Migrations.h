#pragma once

#include <vector>

namespace portico {

class SqliteConnection;

/// One schema step: migrations/NNNN_name.sql, compiled into the binary.
struct Migration {
  const char* name;
  const char* sql;
};

/// Every migration of the source tree, in order (generated at build time): migrations/*.sql for
/// SQLite, migrations/postgresql/*.sql for PostgreSQL (the same steps, one for one).
const std::vector<Migration>& embeddedMigrations();
const std::vector<Migration>& embeddedPostgresMigrations();

/// Applies the migrations past `PRAGMA user_version`, each in its own transaction.
/// Throws StoreError when the store is newer than `all`; with `mayUpgrade` false, throws
/// StoreNotReady when it is older. Returns the resulting version.
int migrate(SqliteConnection& conn, const std::vector<Migration>& all, bool mayUpgrade);

}  // namespace portico
