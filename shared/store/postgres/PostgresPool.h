#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/Postgres.h"

namespace portico {

/// Connections to one PostgreSQL server, lent one per concurrent operation and kept open
/// between them (at most `keepIdle`). A connection that broke, or was left inside a
/// transaction, is not given back.
class PostgresPool {
 public:
  class Lease {
   public:
    Lease(PostgresPool& owner, std::unique_ptr<PgConnection> conn, bool reused)
        : owner_(&owner), conn_(std::move(conn)), reused_(reused) {}
    ~Lease();
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;

    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }
    /// Taken from the idle set (it may have died while idle, e.g. the server restarted).
    bool reused() const { return reused_; }

   private:
    PostgresPool* owner_;
    std::unique_ptr<PgConnection> conn_;
    bool reused_;
  };

  PostgresPool(std::string url, bool readOnly, std::size_t keepIdle = 4);

  /// An idle connection, or a new one. Throws StoreUnavailable when the server cannot be reached.
  Lease acquire();
  /// Closes the idle connections (after a failure: they most likely lost their server too).
  void discardIdle();

 private:
  void giveBack(std::unique_ptr<PgConnection> conn);

  const std::string url_;
  const bool readOnly_;
  const std::size_t keepIdle_;
  std::mutex mutex_;  // guards idle_ only, never held during a query or a connect
  std::vector<std::unique_ptr<PgConnection>> idle_;
};

}  // namespace portico
