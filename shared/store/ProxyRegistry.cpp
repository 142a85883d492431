#include "store/ProxyRegistry.h"

#include "base/Errors.h"
#include "store/SqlTransaction.h"
#include "store/StoreTime.h"

namespace portico {
namespace {

// Addresses are few and never hold a space: one text column, space-separated.
std::string joinAddresses(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::vector<std::string> splitAddresses(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from < text.size()) {
    auto end = text.find(' ', from);
    if (end == std::string::npos) end = text.size();
    if (end > from) out.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return out;
}

}  // namespace

void writeProxyReport(SqlTransaction& tx, const ProxyReport& report) {
  const std::int64_t now = tx.queryInt(std::string("SELECT ") + tx.dialect().nowMs);
  const std::int64_t seen = report.leaving ? now - 3 * report.heartbeatMs - 1 : now;
  // applied_at keeps its time while the revision stays: it says when the proxy first served it.
  tx.exec(
      "INSERT INTO proxies (id, addresses, version, started_at, revision, applied_at, last_seen, "
      "heartbeat_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET "
      "addresses = excluded.addresses, version = excluded.version, started_at = "
      "excluded.started_at, applied_at = CASE WHEN proxies.revision = excluded.revision THEN "
      "proxies.applied_at ELSE excluded.applied_at END, revision = excluded.revision, last_seen = "
      "excluded.last_seen, heartbeat_ms = excluded.heartbeat_ms",
      {report.id, joinAddresses(report.addresses), report.version, report.startedAtMs,
       report.revision, now, seen, report.heartbeatMs});
  tx.exec("DELETE FROM proxies WHERE last_seen < $1 AND id != $2",
          {now - report.forgetAfterMs, report.id});
}

ProxyRoster readProxyRoster(SqlTransaction& tx) {
  // One statement (one snapshot without a transaction of its own): every admin write reads the
  // roster for its Portico-Applied-By header. The revision's one row joined to every proxy,
  // or alone (the proxy columns NULL) when there is none. The first change a proxy has not
  // applied says since when it is behind (changes_revision index: one probe per proxy).
  const auto rows = tx.query(
      std::string("SELECT r.value, ") + tx.dialect().nowMs +
      ", p.id, p.addresses, p.version, p.started_at, p.revision, p.applied_at, p.last_seen, "
      "p.heartbeat_ms, (SELECT c.time FROM changes c WHERE c.revision > p.revision ORDER BY "
      "c.revision LIMIT 1) FROM revision r LEFT JOIN proxies p ON 1 = 1 WHERE r.id = 1 "
      "ORDER BY p.id" +
      std::string(tx.dialect().byteOrder));
  ProxyRoster roster;
  if (rows.empty()) throw StoreError("the store has no revision row");
  roster.revision = rows.integer(0, 0);
  roster.nowMs = rows.integer(0, 1);
  roster.proxies.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows.text(i, 2).empty()) continue;  // no proxy: the revision's row alone
    ProxyRecord p;
    p.id = rows.text(i, 2);
    p.addresses = splitAddresses(rows.text(i, 3));
    p.version = rows.text(i, 4);
    p.startedAtMs = rows.integer(i, 5);
    p.revision = rows.integer(i, 6);
    p.appliedAtMs = rows.integer(i, 7);
    p.lastSeenMs = rows.integer(i, 8);
    p.heartbeatMs = rows.integer(i, 9);
    if (p.revision < roster.revision) p.behindSinceMs = storeTimeMs(rows.text(i, 10));
    roster.proxies.push_back(std::move(p));
  }
  return roster;
}

}  // namespace portico
