#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/sqlite/SqliteBusyWait.h"

namespace portico {

class SqliteStatement;

/// An open SQLite connection, closed on destruction.
class SqliteConnection {
 public:
  SqliteConnection(const std::string& path, int flags);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* get() const { return db_; }
  /// How long a statement waits for another connection's lock before it fails with
  /// SQLITE_BUSY (SqliteBusyWait's schedule, not SQLite's own).
  void setBusyTimeout(std::chrono::milliseconds timeout) { busy_.install(db_, timeout); }
  /// Runs statements that return no rows; throws StoreError with SQLite's message.
  void exec(const std::string& sql);
  std::int64_t queryInt(const std::string& sql);

  /// The statement prepared for `sql` (in SQLite's own syntax) on this connection, reset and
  /// unbound: prepared once and kept for the connection's life, since preparing (parsing and
  /// planning) cost more than running the small statements a route write makes. `sql` comes
  /// from the code, never from input; past kMaxStatements kept (texts with a LIMIT inlined)
  /// they are all dropped and prepared again as needed. The reference holds until the next call.
  SqliteStatement& statement(const std::string& sql);

 private:
  static constexpr std::size_t kMaxStatements = 128;
  sqlite3* db_{nullptr};
  SqliteBusyWait busy_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

/// A prepared statement, finalized on destruction. Bind indexes start at 1, columns at 0.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, const std::string& value);
  SqliteStatement& bindNull(int index);
  /// True while a row is available; false when done. Throws StoreError on failure.
  bool step();
  void reset();
  int columns() const { return sqlite3_column_count(stmt_); }
  std::int64_t columnInt(int col) const;
  std::string columnText(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_{nullptr};
};

/// A transaction rolled back unless commit() is reached: a failed change leaves nothing behind.
class SqliteTransaction {
 public:
  enum class Kind { Deferred, Immediate };
  SqliteTransaction(SqliteConnection& conn, Kind kind);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  void commit();

 private:
  SqliteConnection& conn_;
  bool done_{false};
};

}  // namespace portico
