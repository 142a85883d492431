#include "store/LeaseTable.h"

#include "store/SqlTransaction.h"

namespace portico {
namespace {

std::vector<std::int64_t> idColumn(const SqlRows& rows) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(rows.integer(i, 0));
  return out;
}

std::int64_t storeNowMs(SqlTransaction& tx) {
  return tx.queryInt(std::string("SELECT ") + tx.dialect().nowMs);
}

}  // namespace

LeaseClock enlistSidecar(SqlTransaction& tx, const std::string& holder,
                         std::chrono::milliseconds ttl) {
  LeaseClock clock;
  clock.now = storeNowMs(tx);
  clock.expires = clock.now + static_cast<std::int64_t>(ttl.count());
  tx.exec(
      "INSERT INTO sidecars (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET "
      "expires_at = excluded.expires_at",
      {holder, clock.expires});
  tx.exec("DELETE FROM sidecars WHERE expires_at <= $1", {clock.now});
  clock.live = tx.queryInt("SELECT count(*) FROM sidecars");
  return clock;
}

std::int64_t countCheckedTargets(SqlTransaction& tx) {
  return tx.queryInt("SELECT count(*) FROM targets WHERE state != 'disabled'");
}

std::vector<std::int64_t> staleLeases(SqlTransaction& tx, std::int64_t now) {
  return idColumn(tx.query(
      "SELECT target_id FROM health_leases WHERE expires_at <= $1 UNION SELECT l.target_id FROM "
      "health_leases l JOIN targets t ON t.id = l.target_id WHERE t.state = 'disabled' ORDER BY 1",
      {now}));
}

void dropStaleLeases(SqlTransaction& tx, const IdRange& range, std::int64_t now) {
  tx.exec(
      "DELETE FROM health_leases WHERE target_id BETWEEN $1 AND $2 AND (expires_at <= $3 OR "
      "target_id IN (SELECT id FROM targets WHERE id BETWEEN $1 AND $2 AND state = 'disabled'))",
      {range.first, range.last, now});
}

std::vector<std::int64_t> extendLeases(SqlTransaction& tx, const std::string& holder,
                                       const LeaseClock& clock, std::int64_t after,
                                       std::size_t limit) {
  // An expired lease is not brought back: another sidecar may be taking it over.
  return idColumn(tx.query(
      "UPDATE health_leases SET expires_at = $1 WHERE holder = $2 AND target_id IN (SELECT "
      "target_id FROM health_leases WHERE holder = $2 AND target_id > $3 AND expires_at > $4 "
      "ORDER BY target_id LIMIT $5) RETURNING target_id",
      {clock.expires, holder, after, clock.now, static_cast<std::int64_t>(limit)}));
}

void releaseLeaseRange(SqlTransaction& tx, const std::string& holder, const IdRange& range) {
  tx.exec("DELETE FROM health_leases WHERE holder = $1 AND target_id BETWEEN $2 AND $3",
          {holder, range.first, range.last});
}

std::vector<std::int64_t> freeTargets(SqlTransaction& tx, std::int64_t now, std::size_t limit) {
  return idColumn(tx.query(
      "SELECT t.id FROM targets t WHERE t.state != 'disabled' AND NOT EXISTS (SELECT 1 FROM "
      "health_leases l WHERE l.target_id = t.id AND l.expires_at > $1) ORDER BY t.id LIMIT $2",
      {now, static_cast<std::int64_t>(limit)}));
}

std::vector<std::int64_t> takeFreeTargets(SqlTransaction& tx, const std::string& holder,
                                          const LeaseClock& clock, const IdRange& range) {
  tx.exec("DELETE FROM health_leases WHERE target_id BETWEEN $1 AND $2 AND expires_at <= $3",
          {range.first, range.last, clock.now});
  return idColumn(tx.query(
      "INSERT INTO health_leases (target_id, holder, expires_at) SELECT t.id, $1, $2 FROM "
      "targets t WHERE t.id BETWEEN $3 AND $4 AND t.state != 'disabled' AND NOT EXISTS (SELECT "
      "1 FROM health_leases l WHERE l.target_id = t.id) ORDER BY t.id LIMIT $5 RETURNING "
      "target_id",
      {holder, clock.expires, range.first, range.last, static_cast<std::int64_t>(range.count)}));
}

std::vector<std::int64_t> claimTargets(SqlTransaction& tx, const std::string& holder,
                                       const std::vector<std::int64_t>& ids,
                                       std::chrono::milliseconds ttl) {
  const std::int64_t now = storeNowMs(tx);
  const std::int64_t expires = now + static_cast<std::int64_t>(ttl.count());
  std::vector<std::int64_t> claimed;
  for (const std::int64_t id : ids) {
    tx.exec("DELETE FROM health_leases WHERE target_id = $1 AND expires_at <= $2", {id, now});
    const auto taken = tx.exec(
        "INSERT INTO health_leases (target_id, holder, expires_at) SELECT t.id, $2, $3 FROM "
        "targets t WHERE t.id = $1 AND t.state != 'disabled' AND NOT EXISTS (SELECT 1 FROM "
        "health_leases l WHERE l.target_id = t.id)",
        {id, holder, expires});
    if (taken > 0) claimed.push_back(id);
  }
  return claimed;
}

void releaseAllLeases(SqlTransaction& tx, const std::string& holder) {
  tx.exec("DELETE FROM health_leases WHERE holder = $1", {holder});
  tx.exec("DELETE FROM sidecars WHERE id = $1", {holder});
}

}  // namespace portico
