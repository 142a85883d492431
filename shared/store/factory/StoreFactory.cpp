#include "store/factory/StoreFactory.h"

#include "store/postgres/PgChangeFeed.h"
#include "store/postgres/PostgresStore.h"
#include "store/sqlite/SqliteChangeFeed.h"
#include "store/sqlite/SqliteStore.h"

namespace portico {

std::unique_ptr<Store> openStore(const StoreLocation& where, Store::Access access) {
  if (where.postgres()) return std::make_unique<PostgresStore>(where.url, access);
  return std::make_unique<SqliteStore>(where.path, access);
}

int checkStoreSchema(const StoreLocation& where) {
  if (where.postgres()) return PostgresStore::checkSchema(where.url);
  return SqliteStore::checkSchema(where.path);
}

std::unique_ptr<ChangeFeed> openChangeFeed(const StoreLocation& where) {
  if (where.postgres()) return std::make_unique<PgChangeFeed>(where.url);
  return std::make_unique<SqliteChangeFeed>(where.path);
}

}  // namespace portico
