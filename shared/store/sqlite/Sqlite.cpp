#include "store/sqlite/Sqlite.h"

#include "base/Errors.h"

namespace portico {
namespace {

[[noreturn]] void throwFor(int rc, const std::string& message) {
  // SQLite reports BUSY/LOCKED only once the connection's busy timeout has run out.
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw StoreBusy(
        message +
        " (another connection held the store's lock past the busy timeout; nothing was changed)");
  throw StoreError(message);
}

[[noreturn]] void fail(sqlite3* db, int rc, const std::string& what) {
  throwFor(rc, what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, int flags) {
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open store '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

SqliteConnection::~SqliteConnection() {
  statements_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

SqliteStatement& SqliteConnection::statement(const std::string& sql) {
  const auto it = statements_.find(sql);
  if (it != statements_.end()) {
    // A statement whose last use threw (mid-step) starts again from the top.
    it->second->reset();
    return *it->second;
  }
  if (statements_.size() >= kMaxStatements) statements_.clear();
  auto& kept = statements_[sql];
  kept = std::make_unique<SqliteStatement>(db_, sql);
  return *kept;
}

void SqliteConnection::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throwFor(rc, "store: " + msg);
  }
}

std::int64_t SqliteConnection::queryInt(const std::string& sql) {
  SqliteStatement st(db_, sql);
  if (!st.step()) throw StoreError("store: no row for " + sql);
  return st.columnInt(0);
}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "store: prepare");
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(stmt_);
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "store: bind");
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, const std::string& value) {
  const int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                                   SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "store: bind");
  return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc, "store: bind");
  return *this;
}

bool SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, "store");
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t SqliteStatement::columnInt(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

std::string SqliteStatement::columnText(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col))
           : std::string();
}

SqliteTransaction::SqliteTransaction(SqliteConnection& conn, Kind kind) : conn_(conn) {
  conn_.exec(kind == Kind::Immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

SqliteTransaction::~SqliteTransaction() {
  if (!done_) sqlite3_exec(conn_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
  conn_.exec("COMMIT");
  done_ = true;
}

}  // namespace portico
