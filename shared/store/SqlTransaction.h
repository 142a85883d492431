#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/Model.h"
#include "store/SqlDialect.h"

namespace portico {

/// A statement parameter: SQL NULL, an integer or text.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string>;
using SqlParams = std::vector<SqlValue>;

/// `text`, or NULL when it is empty (the optional columns of the history).
SqlValue textOrNull(const std::string& text);

/// The rows a query returned, every value as text (NULL as "").
class SqlRows {
 public:
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::string& text(std::size_t row, std::size_t col) const { return rows_[row][col]; }
  /// Throws StoreError for a value that is not an integer.
  std::int64_t integer(std::size_t row, std::size_t col) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

/// One open transaction of a store, as the SQL written once for both databases (StoreWriter,
/// StoreReader, ChangeHistory, RouteReads) sees it. Statements number their parameters $1, $2,
/// ... whatever the database; the adapter translates, and says what the database's SQL spells
/// differently (dialect). Errors are the store's (StoreError, StoreBusy, StoreUnavailable).
/// Rolled back when it ends without commit().
class SqlTransaction {
 public:
  explicit SqlTransaction(const SqlDialect& dialect) : dialect_(dialect) {}
  virtual ~SqlTransaction() = default;
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;

  virtual SqlRows query(const std::string& sql, const SqlParams& params = {}) = 0;
  /// Runs an INSERT, UPDATE or DELETE; returns how many rows it touched.
  virtual std::int64_t exec(const std::string& sql, const SqlParams& params = {}) = 0;
  /// Runs an INSERT of one row into a table with an `id` key; returns the row's id.
  virtual std::int64_t insert(const std::string& sql, const SqlParams& params) = 0;
  /// Ends the transaction; a no-op for a read of one statement outside a transaction.
  virtual void commit() = 0;

  const SqlDialect& dialect() const { return dialect_; }
  /// The route `key` names and its targets as this transaction sees them (RouteReads).
  std::optional<RouteRecord> route(const RouteKey& key);
  /// Every route with its targets, in prefix order.
  std::vector<RouteRecord> routes();

  /// The first column of the first row; throws StoreError when there is none.
  std::int64_t queryInt(const std::string& sql, const SqlParams& params = {});
  std::string queryText(const std::string& sql, const SqlParams& params = {});

 private:
  const SqlDialect& dialect_;
};

}  // namespace portico
