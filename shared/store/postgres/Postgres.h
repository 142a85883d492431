#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portico {

/// libpq's message on one line (it spans several: "...\n\tHINT..."), without the trailing newline.
std::string pgMessage(const char* message);

/// A query's result, cleared on destruction. Values are read as text (libpq's text format).
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult() { PQclear(result_); }
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PgResult& operator=(PgResult&&) = delete;

  int rows() const { return PQntuples(result_); }
  int columns() const { return PQnfields(result_); }
  bool isNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }
  std::string text(int row, int col) const;
  /// Throws StoreError for a value that is not an integer.
  std::int64_t integer(int row, int col) const;
  /// Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;

 private:
  PGresult* result_;
};

/// Parameters of a statement, $1 first; nullopt is SQL NULL.
using PgParams = std::vector<std::optional<std::string>>;

/// An open connection to the PostgreSQL server a `store.url` names, closed on destruction.
/// Errors become StoreUnavailable (the server is unreachable, shutting down, or the connection
/// broke), StoreBusy (a lock or serialisation timeout: nothing changed, retry) or StoreError.
class PgConnection {
 public:
  /// `readOnly`: every transaction of the session is read-only (the proxy never writes).
  PgConnection(const std::string& url, bool readOnly);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// One statement with parameters, or (without) a script of several.
  PgResult exec(const std::string& sql, const PgParams& params = {});
  std::int64_t queryInt(const std::string& sql, const PgParams& params = {});

  PGconn* get() const { return conn_; }
  /// Connected and outside any transaction: fit to be reused.
  bool reusable() const;
  /// A COMMIT was sent: after a failure from here on, whether the change happened is unknown,
  /// so the operation must not be retried.
  bool commitSent() const { return commitSent_; }
  void markCommitSent() { commitSent_ = true; }
  void clearCommitSent() { commitSent_ = false; }

 private:
  PGconn* conn_{nullptr};
  bool commitSent_{false};
};

/// A transaction rolled back unless commit() is reached.
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection& conn, const std::string& begin = "BEGIN");
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void commit();

 private:
  PgConnection& conn_;
  bool done_{false};
};

}  // namespace portico
