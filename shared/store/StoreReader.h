#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/Store.h"

namespace portico {

class SqlTransaction;

/// The reads of a Store, written once in SQL both databases run (RouteReads, ChangeHistory):
/// the revision, the routes with their targets, a page of them, one route, the history and
/// the routes changed since a revision. SqliteStore and PostgresStore implement `read`: where a
/// read runs and how it is isolated on their database. A read of several rows sees one
/// consistent state, and the revision it reports is that state's.
class StoreReader : public Store {
 public:
  std::int64_t revision() override;
  std::vector<RouteRecord> loadRoutes(std::int64_t* revision = nullptr) override;
  std::optional<RouteRecord> findRoute(const RouteKey& route,
                                       std::int64_t* revision = nullptr) override;
  ChangePage changes(const ChangeQuery& query, std::int64_t* revision = nullptr) override;
  RouteChanges routesChangedSince(std::int64_t since) override;
  HistoryAfter historyAfter(std::int64_t since) override;
  std::vector<RouteRecord> loadRoutePage(
      const RouteKey& after, std::size_t limit, std::int64_t* revision = nullptr,
      const std::optional<std::string>& host = std::nullopt) override;
  ProxyRoster proxies() override;

 protected:
  /// What a read is; each database gives it its isolation.
  enum class ReadKind {
    Statement,  // one statement: needs no transaction of its own
    Snapshot,   // several statements that must see one committed state
  };

  /// Runs `body` in a new read of `kind`, which `body` ends with commit(). May run `body` again
  /// on a new connection when the first failed.
  virtual void read(ReadKind kind, const std::function<void(SqlTransaction&)>& body) = 0;

 private:
  /// `body(tx)` in a read of `kind`, committed; returns what it returns.
  template <typename F>
  auto reading(ReadKind kind, F&& body) -> decltype(body(std::declval<SqlTransaction&>()));
  /// `body(tx)` in a snapshot; `*revision`, when asked for, is the snapshot's revision.
  template <typename F>
  auto withRevision(std::int64_t* revision, F&& body)
      -> decltype(body(std::declval<SqlTransaction&>()));
};

}  // namespace portico
