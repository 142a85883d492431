#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/Model.h"
#include "store/ChangeLog.h"
#include "store/ConfigDiff.h"
#include "store/ProxyRecord.h"

namespace portico {

/// Told about every write transaction (the sidecar's metrics). Called on the writing thread.
class StoreObserver {
 public:
  virtual ~StoreObserver() = default;
  /// A write committed (or changed nothing) after `seconds`, lock wait included.
  virtual void written(double seconds) = 0;
  /// A write gave up on the store's lock after the busy timeout (StoreBusy).
  virtual void busy() = 0;
};

/// The store both programs share: routes, targets, health verdicts, the revision counter, the
/// change history and the health-check leases. Two implementations: SqliteStore (a file,
/// `store.path`) and PostgresStore (a server, `store.url`), whose writes StoreWriter writes once
/// for both; openStore() picks one from the settings and the code above never knows which it has.
///
/// The sidecar opens it ReadWrite (creates, migrates, writes); the proxy opens it ReadOnly
/// (never writes, refuses a schema it does not know). Every change commits in one transaction
/// together with a revision bump and its rows in the change history; writes are serialised
/// (across processes too), so revisions commit in order. A write that cannot get the store's
/// lock within the busy timeout throws StoreBusy; a store that cannot be reached throws
/// StoreUnavailable; either way nothing changed. Reads see the last committed state and never
/// wait for a write. Thread-safe.
///
/// Reads and writes can report the revision they saw or made (`revision`, when not null): the
/// admin API's ETag. A write whose WriteContext carries an If-Match is checked against the
/// revision inside its transaction and throws PreconditionFailed, changing nothing, when the
/// store has moved on.
///
/// Overrides repeat the defaults below, so a caller holding the concrete type gets them too.
class Store {
 public:
  enum class Access { ReadWrite, ReadOnly };
  static constexpr std::int64_t kDefaultHistoryLimit = 100000;

  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// How many rows the change history keeps (store.history_limit); the oldest go first.
  virtual void setHistoryLimit(std::int64_t rows) = 0;

  virtual int schemaVersion() = 0;
  /// The counter every committed change increments; cheap enough to poll.
  virtual std::int64_t revision() = 0;
  /// Every route with its targets, read in one transaction (a consistent snapshot).
  virtual std::vector<RouteRecord> loadRoutes(std::int64_t* revision = nullptr) = 0;
  virtual std::optional<RouteRecord> findRoute(const RouteKey& route,
                                               std::int64_t* revision = nullptr) = 0;
  /// History rows after `query.since`, oldest first (see ChangePage).
  virtual ChangePage changes(const ChangeQuery& query, std::int64_t* revision = nullptr) = 0;
  /// The routes changed after revision `since` (see RouteChanges), read in one transaction at
  /// the cost of what changed: the change history says which routes, each is read by its key.
  /// `since` < 0, or a history that does not reach back to it, gives every route (complete =
  /// false).
  virtual RouteChanges routesChangedSince(std::int64_t since) = 0;
  /// Every route with every history row after revision `since`, in one snapshot (see
  /// HistoryAfter): what POST /endpoints/revert walks back from.
  virtual HistoryAfter historyAfter(std::int64_t since) = 0;
  /// Up to `limit` routes whose (prefix, host) sorts after `after`'s ("" for the first), in
  /// that order, with their targets; with `host`, only that host's routes (GET
  /// /endpoints/routes?host=).
  virtual std::vector<RouteRecord> loadRoutePage(
      const RouteKey& after, std::size_t limit, std::int64_t* revision = nullptr,
      const std::optional<std::string>& host = std::nullopt) = 0;

  /// Throws Conflict when a route of the same host and prefix exists.
  virtual RouteRecord createRoute(const RouteSpec& spec, const WriteContext& who = {},
                                  std::int64_t* revision = nullptr) = 0;
  /// Throws NotFound when the route is absent.
  virtual void deleteRoute(const RouteKey& route, const WriteContext& who = {},
                           std::int64_t* revision = nullptr) = 0;
  /// Changes a route's balancer, health settings or policies in one transaction: `change` is
  /// given the route as stored (it may throw InvalidInput, and nothing is written) and what it
  /// leaves different becomes one revision and one `route.update` history row holding the
  /// changed fields before and after. Returns the route as stored after. Throws NotFound.
  virtual RouteRecord updateRoute(const RouteKey& route,
                                  const std::function<void(RouteRecord&)>& change,
                                  const WriteContext& who = {},
                                  std::int64_t* revision = nullptr) = 0;
  /// Adds targets not yet on the route (others skipped, their weight untouched) and, when given,
  /// replaces the route's health settings. Returns how many targets were added. Throws NotFound.
  virtual int addTargets(const RouteKey& route, const std::vector<TargetSpec>& targets,
                         const std::optional<HealthSpec>& health = std::nullopt,
                         const WriteContext& who = {}, std::int64_t* revision = nullptr) = 0;
  /// Removes the URLs present on the route; returns how many were. Throws NotFound.
  virtual int removeTargets(const RouteKey& route, const std::vector<std::string>& urls,
                            const WriteContext& who = {}, std::int64_t* revision = nullptr) = 0;
  /// Sets a target's weight and/or state; returns the target as stored after. Throws NotFound
  /// for an unknown route or target.
  virtual TargetRecord updateTarget(const RouteKey& route, const std::string& url,
                                    const TargetUpdate& update, const WriteContext& who = {},
                                    std::int64_t* revision = nullptr) = 0;
  /// Makes the routes and targets equal to `desired` (PUT /endpoints/config) in one transaction:
  /// ConfigDiff's changes against the routes as the transaction reads them, each written with
  /// its history row, all as one revision; none (nothing differs) is no revision. Targets that
  /// stay keep their ids and health verdicts. `who.revertOf` marks the rows of a revert.
  /// Returns the changes made.
  virtual std::vector<ConfigChange> applyConfig(const std::vector<RouteSpec>& desired,
                                                const WriteContext& who = {},
                                                std::int64_t* revision = nullptr) = 0;
  /// Creates each route whose (host, prefix) was never seeded and is absent; returns the keys
  /// of those created. The history names the configuration as their author.
  virtual std::vector<RouteKey> seed(const std::vector<RouteSpec>& routes) = 0;

  /// Writes a health transition (verdict, time, error) with a revision bump and a history row
  /// by `health` (client: `holder`). Returns false and writes nothing when the stored verdict
  /// is already `healthy`, the target is gone, or it is disabled (disabled targets are not
  /// checked) — and, when `holder` is not empty, unless `holder` holds the target's lease: a
  /// sidecar whose lease lapsed must not overwrite the new holder's verdicts.
  virtual bool recordVerdict(std::int64_t targetId, bool healthy, const std::string& error,
                             const std::string& holder = "") = 0;
  /// Stamps last_checked_at for a sweep of probes (disabled targets excepted: a probe that was
  /// in flight when its target was disabled does not count); not a change the proxy needs, so
  /// no bump and no history. Gives up (StoreBusy) quickly rather than after the busy timeout: a
  /// stamp is not worth holding up the writes queued behind it.
  virtual void recordChecked(const std::vector<std::int64_t>& targetIds) = 0;

  /// Health-check leases, on the store's clock: records `holder` as a live sidecar until now +
  /// `ttl`, drops expired leases, extends the unexpired leases it holds to the same time, then
  /// gives `holder` free targets up to its fair share (ceil(targets / live sidecars)) and frees
  /// those it holds beyond that share, so the targets spread evenly as sidecars come and go.
  /// Each step is its own short transaction of at most a slice of rows (kLeaseSlice): a write
  /// queued behind a renewal of 50,000 leases waits for one slice, not for all of them.
  /// Returns the ids of the targets `holder` holds after, ascending. No revision bump, no
  /// history: the proxy has nothing to reload.
  virtual std::vector<std::int64_t> renewLeases(const std::string& holder,
                                                std::chrono::milliseconds ttl) = 0;
  /// Takes the leases of `targetIds` that nobody holds (no lease, or an expired one) for
  /// `holder` until now + `ttl`, skipping disabled targets: the checker's claim on targets it
  /// has just seen, so they are probed at once. Touches only those targets' rows (a renewal
  /// touches every lease: at 50,000 targets that per route created made creates slow down as
  /// the table grew); the fair share is evened out at the next renewal. Returns the ids taken,
  /// ascending. No revision bump, no history.
  virtual std::vector<std::int64_t> claimLeases(const std::string& holder,
                                                const std::vector<std::int64_t>& targetIds,
                                                std::chrono::milliseconds ttl) = 0;
  /// Gives up every lease of `holder` and its live-sidecar record (a clean shutdown: the others
  /// take its targets over at their next renewal instead of after the lease timeout).
  virtual void releaseLeases(const std::string& holder) = 0;

  /// The proxies table: every proxy's row with the store's revision and clock (one snapshot).
  virtual ProxyRoster proxies() = 0;
  /// A proxy's report of itself: the one write a ReadOnly store makes (its own row, and rows
  /// unseen for report.forgetAfterMs deleted). No revision bump, no history. Gives up quickly
  /// (StoreBusy) under another writer's lock: the next heartbeat catches up.
  virtual void reportProxy(const ProxyReport& report) = 0;

  /// Set before the store is shared between threads; null stops reporting.
  void setObserver(StoreObserver* observer) { observer_ = observer; }

 protected:
  Store() = default;
  StoreObserver* observer_{nullptr};
};

}  // namespace portico
