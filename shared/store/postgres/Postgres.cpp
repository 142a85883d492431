#include "store/postgres/Postgres.h"

#include <cctype>
#include <cstdlib>

#include "base/Errors.h"

namespace portico {
namespace {

void ignoreNotice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

std::string pgMessage(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  // libpq's messages can span lines ("...\nDETAIL: ..."): one line for logs and answers.
  for (auto& c : s) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return s;
}

std::string PgResult::text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col),
                     static_cast<std::size_t>(PQgetlength(result_, row, col)));
}

std::int64_t PgResult::integer(int row, int col) const {
  const char* value = PQgetvalue(result_, row, col);
  char* end = nullptr;
  const long long n = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0')
    throw StoreError(std::string("store: '") + value + "' is not an integer");
  return n;
}

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_);
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

PgConnection::PgConnection(const std::string& url, bool readOnly) {
  // Defaults first: the URL's own parameters (and libpq's environment) override them.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", readOnly ? "portico-proxy" : "portico-sidecar", url.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_) throw StoreUnavailable("cannot connect: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = pgMessage(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw StoreUnavailable("cannot connect: " + why);
  }
  PQsetNoticeProcessor(conn_, ignoreNotice, nullptr);
  try {
    // A write waits this long for another sidecar's lock, then gives up (StoreBusy).
    exec(readOnly ? "SET default_transaction_read_only = on" : "SET lock_timeout = '5s'");
    exec("SET TIME ZONE 'UTC'");
  } catch (...) {
    PQfinish(conn_);
    throw;
  }
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

bool PgConnection::reusable() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

PgResult PgConnection::exec(const std::string& sql, const PgParams& params) {
  PGresult* raw = nullptr;
  if (params.empty()) {
    raw = PQexec(conn_, sql.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    raw = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                       nullptr, nullptr, 0);
  }
  PgResult result(raw);
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  std::string message = pgMessage(raw ? PQresultErrorMessage(raw) : nullptr);
  if (message.empty()) message = pgMessage(PQerrorMessage(conn_));
  // Class 08: connection exceptions; 57P01-03: the server is shutting down or starting up.
  if (PQstatus(conn_) != CONNECTION_OK || code.rfind("08", 0) == 0 || code == "57P01" ||
      code == "57P02" || code == "57P03")
    throw StoreUnavailable(message);
  if (code == "55P03" || code == "40001" || code == "40P01")
    throw StoreBusy(
        message + " (another sidecar held the store's lock past the timeout; nothing was changed)");
  throw StoreError("store: " + message);
}

std::int64_t PgConnection::queryInt(const std::string& sql, const PgParams& params) {
  const auto result = exec(sql, params);
  if (result.rows() < 1 || result.isNull(0, 0)) throw StoreError("store: no row for " + sql);
  return result.integer(0, 0);
}

PgTransaction::PgTransaction(PgConnection& conn, const std::string& begin) : conn_(conn) {
  conn_.clearCommitSent();
  conn_.exec(begin);
}

PgTransaction::~PgTransaction() {
  if (done_ || PQstatus(conn_.get()) != CONNECTION_OK) return;
  PQclear(PQexec(conn_.get(), "ROLLBACK"));
}

void PgTransaction::commit() {
  conn_.markCommitSent();
  conn_.exec("COMMIT");
  done_ = true;
}

}  // namespace portico
