#pragma once

#include <memory>

#include "store/ChangeFeed.h"
#include "store/Store.h"
#include "store/StoreLocation.h"

namespace portico {

/// Opens the store `where` names: PostgresStore for a `store.url`, else SqliteStore for the
/// `store.path` file. Throws StoreError (StoreNotReady, StoreUnavailable) as the store does.
std::unique_ptr<Store> openStore(const StoreLocation& where, Store::Access access);

/// For --check: throws StoreError unless the store is absent, or one whose schema this binary
/// knows or can upgrade; writes nothing. Returns its schema version, -1 when absent.
int checkStoreSchema(const StoreLocation& where);

/// What a follower of the store waits on between revision checks (see ChangeFeed). Connects
/// lazily: never throws for an unreachable store.
std::unique_ptr<ChangeFeed> openChangeFeed(const StoreLocation& where);

}  // namespace portico
