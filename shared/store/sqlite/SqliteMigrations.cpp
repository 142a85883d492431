#include "store/sqlite/SqliteMigrations.h"

#include "base/Errors.h"
#include "store/sqlite/Sqlite.h"

namespace portico {

int migrate(SqliteConnection& conn, const std::vector<Migration>& all, bool mayUpgrade) {
  const int known = static_cast<int>(all.size());
  for (;;) {
    const int version = static_cast<int>(conn.queryInt("PRAGMA user_version"));
    if (version > known)
      throw StoreError("store schema version " + std::to_string(version) +
                       " is newer than this binary knows (" + std::to_string(known) +
                       "); run a newer Portico");
    if (version == known) return version;
    if (!mayUpgrade)
      throw StoreNotReady("store schema version " + std::to_string(version) + " is older than " +
                          std::to_string(known) + "; start portico-sidecar to upgrade it");
    SqliteTransaction tx(conn, SqliteTransaction::Kind::Immediate);
    // Another process may have migrated between our read and the write lock.
    if (conn.queryInt("PRAGMA user_version") != version) continue;
    try {
      conn.exec(all[version].sql);
    } catch (const StoreError& e) {
      throw StoreError(std::string("migration ") + all[version].name + " failed: " + e.what());
    }
    conn.exec("PRAGMA user_version = " + std::to_string(version + 1));
    tx.commit();
  }
}

}  // namespace portico
