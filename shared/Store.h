#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ChangeLog.h"
#include "Migrations.h"
#include "Model.h"

namespace portico {

class SqliteConnection;

/// The SQLite store both programs share. The sidecar opens it ReadWrite (creates, migrates,
/// writes); the proxy opens it ReadOnly (never writes, refuses a schema it does not know).
/// Every change commits in one transaction together with a revision bump and its rows in the
/// change history; a write that cannot get SQLite's lock within the busy timeout throws
/// StoreBusy and changes nothing. Thread-safe.
///
/// Reads and writes can report the revision they saw or made (`revision`, when not null): the
/// admin API's ETag. A write whose WriteContext carries an If-Match is checked against the
/// revision inside its transaction and throws PreconditionFailed, changing nothing, when the
/// store has moved on.
class Store {
 public:
  enum class Access { ReadWrite, ReadOnly };
  static constexpr std::int64_t kDefaultHistoryLimit = 100000;

  explicit Store(const std::string& path, Access access = Access::ReadWrite,
                 const std::vector<Migration>& migrations = embeddedMigrations());
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// How many rows the change history keeps (store.history_limit); the oldest go first.
  void setHistoryLimit(std::int64_t rows);

  int schemaVersion();
  /// The counter every committed change increments; cheap enough to poll.
  std::int64_t revision();
  /// Every route with its targets, read in one transaction (a consistent snapshot).
  std::vector<RouteRecord> loadRoutes(std::int64_t* revision = nullptr);
  std::optional<RouteRecord> findRoute(const std::string& prefix, std::int64_t* revision = nullptr);
  /// History rows after `query.since`, oldest first (see ChangePage).
  ChangePage changes(const ChangeQuery& query, std::int64_t* revision = nullptr);

  /// Throws Conflict when the prefix exists.
  RouteRecord createRoute(const RouteSpec& spec, const WriteContext& who = {},
                          std::int64_t* revision = nullptr);
  /// Throws NotFound when the prefix is absent.
  void deleteRoute(const std::string& prefix, const WriteContext& who = {},
                   std::int64_t* revision = nullptr);
  /// Adds targets not yet on the route (others skipped, their weight untouched) and, when given,
  /// replaces the route's health settings. Returns how many targets were added. Throws NotFound.
  int addTargets(const std::string& prefix, const std::vector<TargetSpec>& targets,
                 const std::optional<HealthSpec>& health = std::nullopt,
                 const WriteContext& who = {}, std::int64_t* revision = nullptr);
  /// Removes the URLs present on the route; returns how many were. Throws NotFound.
  int removeTargets(const std::string& prefix, const std::vector<std::string>& urls,
                    const WriteContext& who = {}, std::int64_t* revision = nullptr);
  /// Sets a target's weight and/or state; returns the target as stored after. Throws NotFound
  /// for an unknown route or target.
  TargetRecord updateTarget(const std::string& prefix, const std::string& url,
                            const TargetUpdate& update, const WriteContext& who = {},
                            std::int64_t* revision = nullptr);
  /// Creates each route whose prefix was never seeded and is absent; returns the prefixes
  /// created. The history names the configuration as their author.
  std::vector<std::string> seed(const std::vector<RouteSpec>& routes);

  /// Writes a health transition (verdict, time, error) with a revision bump and a history row
  /// by `health`. Returns false and writes nothing when the stored verdict is already
  /// `healthy`, the target is gone, or it is disabled (disabled targets are not checked).
  bool recordVerdict(std::int64_t targetId, bool healthy, const std::string& error);
  /// Stamps last_checked_at for a sweep of probes (disabled targets excepted: a probe that was
  /// in flight when its target was disabled does not count); not a change the proxy needs, so
  /// no bump and no history.
  void recordChecked(const std::vector<std::int64_t>& targetIds);

 private:
  class Write;

  std::vector<RouteRecord> loadRoutesLocked(const std::string& where, const std::string& arg);
  std::int64_t revisionLocked();
  void requireWritable() const;

  std::mutex mutex_;  // one connection; SQLite transactions must not interleave across threads
  std::unique_ptr<SqliteConnection> conn_;
  Access access_;
  std::int64_t historyLimit_{kDefaultHistoryLimit};
};

}  // namespace portico
