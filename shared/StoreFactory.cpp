#include "StoreFactory.h"

#include "Errors.h"
#include "SqliteStore.h"
#include "TimedChangeFeed.h"

namespace portico {

std::unique_ptr<Store> openStore(const StoreLocation& where, Store::Access access) {
  if (where.postgres()) throw ConfigError("store.url", "PostgreSQL is not supported yet");
  return std::make_unique<SqliteStore>(where.path, access);
}

int checkStoreSchema(const StoreLocation& where) {
  if (where.postgres()) throw ConfigError("store.url", "PostgreSQL is not supported yet");
  return SqliteStore::checkSchema(where.path);
}

std::unique_ptr<ChangeFeed> openChangeFeed(const StoreLocation& /*where*/) {
  return std::make_unique<TimedChangeFeed>();
}

}  // namespace portico
