#include "store/sqlite/SqliteMigrations.h"

#include "base/Errors.h"
#include "store/sqlite/Sqlite.h"

namespace portico {
namespace {

/// Foreign keys off while migrations run, as SQLite's procedure for changes ALTER TABLE cannot
/// make asks (https://sqlite.org/lang_altertable.html#otheralter): a rebuilt table is dropped
/// and renamed without cascading deletes into the tables that point at it. The pragma is a no-op
/// inside a transaction, so it wraps them; each migration checks the keys before it commits.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(SqliteConnection& conn) : conn_(conn) {
    conn_.exec("PRAGMA foreign_keys = OFF");
  }
  ~ForeignKeysOff() {
    try {
      conn_.exec("PRAGMA foreign_keys = ON");
    } catch (const StoreError&) {
      // The connection is being given up with the migration's failure.
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  SqliteConnection& conn_;
};

}  // namespace

int migrate(SqliteConnection& conn, const std::vector<Migration>& all, bool mayUpgrade) {
  const int known = static_cast<int>(all.size());
  ForeignKeysOff keysOff(conn);
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
      if (conn.queryInt("SELECT count(*) FROM pragma_foreign_key_check") != 0)
        throw StoreError("it would leave rows pointing at rows that do not exist");
    } catch (const StoreError& e) {
      throw StoreError(std::string("migration ") + all[version].name + " failed: " + e.what());
    }
    conn.exec("PRAGMA user_version = " + std::to_string(version + 1));
    tx.commit();
  }
}

}  // namespace portico
