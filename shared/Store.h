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
class SqliteReaders;

/// Told about every write transaction (the sidecar's metrics). Called on the writing thread.
class StoreObserver {
 public:
  virtual ~StoreObserver() = default;
  /// A write committed (or changed nothing) after `seconds`, lock wait included.
  virtual void written(double seconds) = 0;
  /// A write gave up on SQLite's lock after the busy timeout (StoreBusy).
  virtual void busy() = 0;
};

/// The SQLite store both programs share. The sidecar opens it ReadWrite (creates, migrates,
/// writes); the proxy opens it ReadOnly (never writes, refuses a schema it does not know).
/// Every change commits in one transaction together with a revision bump and its rows in the
/// change history; a write that cannot get SQLite's lock within the busy timeout throws
/// StoreBusy and changes nothing. Thread-safe.
///
/// Reads run on connections of their own (SqliteReaders): they see the last committed state
/// and never wait for a write, this process's or another's. A ReadWrite store checks at
/// opening that it can write (StoreError otherwise).
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

  /// For --check: when `path` exists, opens it read-only (writing nothing, not even a journal)
  /// and throws StoreError unless it is a store whose schema this binary knows or can upgrade.
  /// Returns its schema version, or -1 when there is no file yet.
  static int checkSchema(const std::string& path,
                         const std::vector<Migration>& migrations = embeddedMigrations());

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
  /// no bump and no history. Gives up (StoreBusy) after 100 ms rather than the busy timeout: a
  /// stamp is not worth holding up the writes queued behind it.
  void recordChecked(const std::vector<std::int64_t>& targetIds);

  /// Set before the store is shared between threads; null stops reporting.
  void setObserver(StoreObserver* observer) { observer_ = observer; }

 private:
  class Write;

  /// Every route matching `where` (a WHERE clause with one parameter, or "") with its targets,
  /// read on `conn` (the writer's, inside a Write, or a reader's).
  std::vector<RouteRecord> loadRoutesLocked(SqliteConnection& conn, const std::string& where,
                                            const std::string& arg);
  void requireWritable() const;
  template <typename F>
  auto timedWrite(F&& body) -> decltype(body());

  std::mutex mutex_;  // one connection; SQLite transactions must not interleave across threads
  std::unique_ptr<SqliteConnection> conn_;
  std::unique_ptr<SqliteReaders> readers_;  // the reads: schema, revision, routes, changes
  Access access_;
  StoreObserver* observer_{nullptr};
  std::int64_t historyLimit_{kDefaultHistoryLimit};
};

}  // namespace portico
