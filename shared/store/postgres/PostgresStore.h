#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/Migrations.h"
#include "store/Store.h"
#include "store/postgres/PostgresPool.h"

namespace portico {

/// The store on a PostgreSQL server (`store.url`), shared by proxies and sidecars on several
/// machines. Every write locks the revision row first, so writes through different sidecars
/// are serialised and revisions commit in order; a change sends NOTIFY portico_changes in its
/// own transaction, so a proxy that LISTENs (PgChangeFeed) reloads as soon as it commits. Reads
/// of several rows run in one REPEATABLE READ READ ONLY transaction (a consistent snapshot).
/// Leases and their expiry use the server's clock. An unreachable server is StoreUnavailable;
/// an operation that failed on a connection idle since before a server restart is retried
/// once on a new connection, unless its COMMIT was already sent.
///
/// The schema version lives in portico_schema; a ReadWrite store upgrades an older schema
/// under an advisory lock (several sidecars starting together upgrade once), a ReadOnly one
/// refuses it (StoreNotReady), and both refuse a newer one (StoreError).
class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const std::string& url, Access access = Access::ReadWrite,
                         const std::vector<Migration>& migrations = embeddedPostgresMigrations());
  ~PostgresStore() override;

  /// For --check: connects read-only and throws StoreError unless the database holds no Portico
  /// schema yet (-1) or one this binary knows or can upgrade (its version). Writes nothing.
  static int checkSchema(const std::string& url,
                         const std::vector<Migration>& migrations = embeddedPostgresMigrations());

  void setHistoryLimit(std::int64_t rows) override;
  int schemaVersion() override;
  std::int64_t revision() override;
  std::vector<RouteRecord> loadRoutes(std::int64_t* revision = nullptr) override;
  RouteChanges routesChangedSince(std::int64_t since) override;
  std::vector<RouteRecord> loadRoutePage(const std::string& after, std::size_t limit,
                                         std::int64_t* revision = nullptr) override;
  std::optional<RouteRecord> findRoute(const std::string& prefix,
                                       std::int64_t* revision = nullptr) override;
  ChangePage changes(const ChangeQuery& query, std::int64_t* revision = nullptr) override;
  RouteRecord createRoute(const RouteSpec& spec, const WriteContext& who = {},
                          std::int64_t* revision = nullptr) override;
  void deleteRoute(const std::string& prefix, const WriteContext& who = {},
                   std::int64_t* revision = nullptr) override;
  int addTargets(const std::string& prefix, const std::vector<TargetSpec>& targets,
                 const std::optional<HealthSpec>& health = std::nullopt,
                 const WriteContext& who = {}, std::int64_t* revision = nullptr) override;
  int removeTargets(const std::string& prefix, const std::vector<std::string>& urls,
                    const WriteContext& who = {}, std::int64_t* revision = nullptr) override;
  TargetRecord updateTarget(const std::string& prefix, const std::string& url,
                            const TargetUpdate& update, const WriteContext& who = {},
                            std::int64_t* revision = nullptr) override;
  std::vector<std::string> seed(const std::vector<RouteSpec>& routes) override;
  bool recordVerdict(std::int64_t targetId, bool healthy, const std::string& error,
                     const std::string& holder = "") override;
  void recordChecked(const std::vector<std::int64_t>& targetIds) override;
  std::vector<std::int64_t> renewLeases(const std::string& holder,
                                        std::chrono::milliseconds ttl) override;
  void releaseLeases(const std::string& holder) override;

  /// The channel every committed change is announced on.
  static constexpr const char* kChannel = "portico_changes";

 private:
  class Write;

  template <typename F>
  auto withConnection(F&& body) -> decltype(body(std::declval<PgConnection&>()));
  template <typename F>
  auto timedWrite(F&& body) -> decltype(body(std::declval<PgConnection&>()));
  void requireWritable() const;

  PostgresPool pool_;
  Access access_;
  std::atomic<std::int64_t> historyLimit_{kDefaultHistoryLimit};
};

}  // namespace portico
