#include "store/SqlTransaction.h"

#include <cstdlib>

#include "base/Errors.h"
#include "store/RouteReads.h"

namespace portico {

SqlValue textOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  return text;
}

std::int64_t SqlRows::integer(std::size_t row, std::size_t col) const {
  const std::string& value = rows_[row][col];
  char* end = nullptr;
  const long long n = std::strtoll(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0')
    throw StoreError("store: '" + value + "' is not an integer");
  return n;
}

std::int64_t SqlTransaction::queryInt(const std::string& sql, const SqlParams& params) {
  const auto rows = query(sql, params);
  if (rows.empty() || rows.text(0, 0).empty()) throw StoreError("store: no row for " + sql);
  return rows.integer(0, 0);
}

std::string SqlTransaction::queryText(const std::string& sql, const SqlParams& params) {
  const auto rows = query(sql, params);
  if (rows.empty()) throw StoreError("store: no row for " + sql);
  return rows.text(0, 0);
}

std::optional<RouteRecord> SqlTransaction::route(const RouteKey& key) {
  return readRoute(*this, key);
}

std::vector<RouteRecord> SqlTransaction::routes() {
  return readRoutes(*this);
}

}  // namespace portico
