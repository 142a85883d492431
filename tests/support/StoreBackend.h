#pragma once

// Where a store test's stores live, a fresh one per test: a SQLite file in a temp directory,
// or (built with PORTICO_STORE_POSTGRES) a new database on a PostgreSQL server the test process
// starts once. The suites built twice over it (StoreConformanceTest, ProxyRegistryStoreTest)
// give both implementations the same tests.

#include <memory>
#include <string>

#include "store/factory/StoreFactory.h"
#include "support/TestSupport.h"
#ifdef PORTICO_STORE_POSTGRES
#include "support/PostgresServer.h"
#else
#include "store/sqlite/Sqlite.h"
#endif

namespace portico::test {

class StoreBackend {
 public:
#ifdef PORTICO_STORE_POSTGRES
  StoreBackend() : location_{"", server().createDatabase()} {}
  static PostgresServer& server() {
    static PostgresServer instance;
    return instance;
  }
  /// Runs `statement` on the store from outside (as an operator's psql would).
  void sql(const std::string& statement) {
    PostgresServer::query(location_.url, statement);
  }
  /// Makes the recorded schema version `version`.
  void setSchemaVersion(int version) {
    sql("UPDATE portico_schema SET version = " + std::to_string(version));
  }
  std::string name() const {
    return "postgres";
  }
  /// Sorts route prefixes by a language's rules (ICU "und"), unlike the test server's C
  /// locale: punctuation and case weigh less than letters there.
  void sortPrefixesByLanguage() {
    sql("ALTER TABLE routes ALTER COLUMN prefix TYPE TEXT COLLATE \"und-x-icu\"");
  }
#else
  StoreBackend() : location_{dir_.file("p.db"), ""} {}
  void sql(const std::string& statement) {
    SqliteConnection(location_.path, SQLITE_OPEN_READWRITE).exec(statement);
  }
  void setSchemaVersion(int version) {
    sql("PRAGMA user_version = " + std::to_string(version));
  }
  std::string name() const {
    return "sqlite";
  }
  void sortPrefixesByLanguage() {}  // SQLite compares text byte by byte (BINARY)
#endif
  std::unique_ptr<Store> open(Store::Access access = Store::Access::ReadWrite) {
    return openStore(location_, access);
  }
  const StoreLocation& location() const {
    return location_;
  }

 private:
#ifndef PORTICO_STORE_POSTGRES
  TempDir dir_;
#endif
  StoreLocation location_;
};

}  // namespace portico::test
