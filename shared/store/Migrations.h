#pragma once

#include <vector>

namespace portico {

/// One schema step: migrations/NNNN_name.sql, compiled into the binary.
struct Migration {
  const char* name;
  const char* sql;
};

/// Every migration of the source tree, in order (generated at build time): migrations/*.sql for
/// SQLite, migrations/postgresql/*.sql for PostgreSQL (the same steps, one for one).
const std::vector<Migration>& embeddedMigrations();
const std::vector<Migration>& embeddedPostgresMigrations();

}  // namespace portico
