#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/LeaseSlices.h"
#include "store/LeaseTable.h"
#include "store/StoreReader.h"

namespace portico {

class SqlTransaction;

/// The writes of a Store, written once in SQL both databases run: the route and target
/// changes with their history rows (ChangeLog), the If-Match check, the revision bump and the
/// history trim; verdicts, check-time stamps and leases. SqliteStore and PostgresStore derive
/// from it: they open its transactions (transact, with the locks and timeouts of their
/// database) and its reads (StoreReader::read), whose adapters say what their SQL spells
/// differently (SqlTransaction::dialect).
///
/// A write on a ReadOnly store throws StoreError before anything else, but for a proxy's
/// report of itself (reportProxy), the one write a proxy makes. Changes and stamps are
/// reported to the observer (timed from before the lock wait); lease renewals and reports are
/// not.
class StoreWriter : public StoreReader {
 public:
  void setHistoryLimit(std::int64_t rows) override;

  RouteRecord createRoute(const RouteSpec& spec, const WriteContext& who = {},
                          std::int64_t* revision = nullptr) override;
  void deleteRoute(const RouteKey& route, const WriteContext& who = {},
                   std::int64_t* revision = nullptr) override;
  RouteRecord updateRoute(const RouteKey& route, const std::function<void(RouteRecord&)>& change,
                          const WriteContext& who = {}, std::int64_t* revision = nullptr) override;
  int addTargets(const RouteKey& route, const std::vector<TargetSpec>& targets,
                 const std::optional<HealthSpec>& health = std::nullopt,
                 const WriteContext& who = {}, std::int64_t* revision = nullptr) override;
  int removeTargets(const RouteKey& route, const std::vector<std::string>& urls,
                    const WriteContext& who = {}, std::int64_t* revision = nullptr) override;
  TargetRecord updateTarget(const RouteKey& route, const std::string& url,
                            const TargetUpdate& update, const WriteContext& who = {},
                            std::int64_t* revision = nullptr) override;
  std::vector<ConfigChange> applyConfig(const std::vector<RouteSpec>& desired,
                                        const WriteContext& who = {},
                                        std::int64_t* revision = nullptr) override;
  std::vector<RouteKey> seed(const std::vector<RouteSpec>& routes) override;
  bool recordVerdict(std::int64_t targetId, bool healthy, const std::string& error,
                     const std::string& holder = "") override;
  void recordChecked(const std::vector<std::int64_t>& targetIds) override;
  std::vector<std::int64_t> renewLeases(const std::string& holder,
                                        std::chrono::milliseconds ttl) override;
  std::vector<std::int64_t> claimLeases(const std::string& holder,
                                        const std::vector<std::int64_t>& targetIds,
                                        std::chrono::milliseconds ttl) override;
  void releaseLeases(const std::string& holder) override;
  /// The most lease rows one transaction of a renewal touches (kLeaseSlice; tests set less).
  void setLeaseSlice(std::size_t rows);
  void reportProxy(const ProxyReport& report) override;

 protected:
  /// What a write transaction is for; each database gives it its locks and timeouts.
  enum class WriteKind {
    Change,        // routes, targets, verdicts: serialised by the revision, full lock timeout
    Stamp,         // check-time stamps: bookkeeping that gives up quickly under another's lock
    LeaseRenewal,  // serialised with other lease writes; comes again soon, so may give up early
    LeaseRelease,  // serialised with other lease writes
    Heartbeat,     // a proxy's own row, on a ReadOnly store too: gives up quickly, not durable
  };

  explicit StoreWriter(Access access) : access_(access) {}

  /// Runs `body` in a new write transaction of `kind`, rolled back unless `body` commits it.
  /// May run `body` again on a new connection when the first failed before its commit was sent.
  virtual void transact(WriteKind kind, const std::function<void(SqlTransaction&)>& body) = 0;
  /// Called inside a change's transaction after its revision bump and history rows, just
  /// before the commit (PostgreSQL announces the change to its followers here).
  virtual void announce(SqlTransaction& tx, std::int64_t revision);

 private:
  class Change;

  void requireWritable() const;
  /// `body(tx)` in a transaction of `kind`; returns what it returns.
  template <typename F>
  auto inTransaction(WriteKind kind, F&& body) -> decltype(body(std::declval<SqlTransaction&>()));
  /// inTransaction, reported to the observer.
  template <typename F>
  auto timed(WriteKind kind, F&& body) -> decltype(body(std::declval<SqlTransaction&>()));
  /// Extends every unexpired lease of `holder`, a slice per transaction; returns their ids,
  /// ascending.
  std::vector<std::int64_t> extendHeld(const std::string& holder, const LeaseClock& clock);
  /// Gives `holder` free targets up to its fair share of live sidecars, or frees those beyond,
  /// a slice per transaction; `held` follows.
  void evenOut(const std::string& holder, const LeaseClock& clock, std::int64_t targets,
               std::vector<std::int64_t>& held);
  /// `body(tx)` in a lease transaction of its own, committed.
  template <typename F>
  void leaseWrite(F&& body);

  const Access access_;
  std::atomic<std::int64_t> historyLimit_{kDefaultHistoryLimit};
  std::size_t leaseSlice_{kLeaseSlice};
};

}  // namespace portico
