#include "store/ChangeHistory.h"

#include <set>
#include <string>
#include <utility>

#include "store/SqlTransaction.h"

namespace portico {
namespace {

constexpr const char* kColumns =
    "SELECT revision, time, actor, COALESCE(client, ''), action, route, COALESCE(target, ''), "
    "COALESCE(before, ''), COALESCE(after, ''), host, COALESCE(revert_of, -1) FROM changes ";

/// The rows at `revision` (`where` compares it with $1) matching the query's filters.
std::vector<ChangeRecord> readRows(SqlTransaction& tx, const std::string& where,
                                   const std::string& order, std::int64_t revision,
                                   const ChangeQuery& query) {
  std::string sql = kColumns + where;
  SqlParams params{revision};
  if (!query.route.empty()) {
    params.emplace_back(query.route);
    sql += " AND route = $" + std::to_string(params.size());
    params.emplace_back(query.host);
    sql += " AND host = $" + std::to_string(params.size());
  }
  if (!query.target.empty()) {
    params.emplace_back(query.target);
    sql += " AND target = $" + std::to_string(params.size());
  }
  const auto r = tx.query(sql + order, params);
  std::vector<ChangeRecord> rows;
  rows.reserve(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) {
    ChangeRecord c;
    c.revision = r.integer(i, 0);
    c.time = r.text(i, 1);
    c.actor = r.text(i, 2);
    c.client = r.text(i, 3);
    c.action = r.text(i, 4);
    c.route = r.text(i, 5);
    c.target = r.text(i, 6);
    c.before = r.text(i, 7);
    c.after = r.text(i, 8);
    c.host = r.text(i, 9);
    c.revertOf = r.integer(i, 10);
    rows.push_back(std::move(c));
  }
  return rows;
}

}  // namespace

void writeChanges(SqlTransaction& tx, const ChangeLog& log, std::int64_t revision,
                  std::int64_t limit) {
  const auto& who = log.who();
  for (const auto& row : log.rows()) {
    tx.exec(
        "INSERT INTO changes (revision, time, actor, client, action, route, target, before, "
        "after, host, revert_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        {revision, log.now(), who.actor, textOrNull(who.client), row.action, row.route,
         textOrNull(row.target), textOrNull(row.before), textOrNull(row.after), row.host,
         who.revertOf >= 0 ? SqlValue{who.revertOf} : SqlValue{nullptr}});
  }
  // Ids only grow and only the oldest are deleted, so the newest `limit` rows are the ids above
  // max(id) - limit: one index range, however large the table.
  tx.exec("DELETE FROM changes WHERE id <= (SELECT MAX(id) FROM changes) - $1", {limit});
}

ChangePage readChanges(SqlTransaction& tx, const ChangeQuery& query, std::int64_t revision) {
  ChangePage page;
  page.changes = readRows(
      tx, "WHERE revision > $1",
      " ORDER BY revision, id LIMIT " + std::to_string(static_cast<std::int64_t>(query.limit) + 1),
      query.since, query);
  const auto limit = static_cast<std::size_t>(query.limit);
  if (page.changes.size() <= limit) {
    // Everything up to the revision this read sees has been read: writers commit revisions in
    // order, so none below it can still appear. (A client ahead of the store, one that followed
    // a store since replaced, is brought back to it.)
    page.nextSince = revision;
    return page;
  }
  // Full page: end it at a revision boundary, so the next page (revision > nextSince) neither
  // repeats nor skips rows of a revision split here.
  const std::int64_t cut = page.changes[limit].revision;
  while (!page.changes.empty() && page.changes.back().revision == cut) page.changes.pop_back();
  // One revision has more rows than the limit: it comes whole, a page larger than asked.
  if (page.changes.empty())
    page.changes = readRows(tx, "WHERE revision = $1", " ORDER BY id", cut, query);
  page.nextSince = page.changes.back().revision;
  return page;
}

HistoryAfter readHistoryAfter(SqlTransaction& tx, std::int64_t since) {
  HistoryAfter history;
  history.revision = tx.queryInt("SELECT value FROM revision WHERE id = 1");
  history.routes = tx.routes();
  history.oldest = tx.queryInt("SELECT COALESCE(MIN(revision), -1) FROM changes");
  if (since >= history.revision) return history;
  // Every revision has rows and only the oldest rows go, so a kept row at or below `since`
  // means every row after it is kept. Rows of `since + 1` alone may have lost some of theirs
  // to the trim, unless nothing was ever trimmed: ids start at 1 and only the oldest go.
  const bool untrimmed = tx.queryInt("SELECT COALESCE(MIN(id), -1) FROM changes") == 1;
  history.complete = history.oldest >= 0 &&
                     (history.oldest <= since || (untrimmed && history.oldest == since + 1));
  if (history.complete)
    history.changes = readRows(tx, "WHERE revision > $1", " ORDER BY revision, id", since, {});
  return history;
}

RouteChanges readRouteChanges(SqlTransaction& tx, std::int64_t since) {
  RouteChanges changes;
  changes.revision = tx.queryInt("SELECT value FROM revision WHERE id = 1");
  if (since == changes.revision) return changes;
  // Writers commit in revision order and history ids grow with it, the oldest trimmed first:
  // when the oldest row kept is at or below `since`, every row after it is still there.
  // Otherwise some may be gone (or the store is not the one `since` came from): read everything.
  bool reaches = since >= 0 && since < changes.revision;
  if (reaches) {
    // -1 when the history is empty.
    const auto oldest = tx.queryInt("SELECT COALESCE(MIN(revision), -1) FROM changes");
    reaches = oldest >= 0 && oldest <= since;
  }
  if (!reaches) {
    changes.complete = false;
    changes.routes = tx.routes();
    return changes;
  }
  // The rows after `since` by the revision index, made distinct and ordered here: asked of the
  // statement (DISTINCT ... ORDER BY route, host), SQLite walked the whole (route, host,
  // revision) index instead, 6 ms at 75,000 history rows on every reload of either program.
  const auto touched = tx.query("SELECT route, host FROM changes WHERE revision > $1", {since});
  std::set<std::pair<std::string, std::string>> named;  // (route, host)
  for (std::size_t i = 0; i < touched.size(); ++i)
    named.emplace(touched.text(i, 0), touched.text(i, 1));
  for (const auto& [route, host] : named) {
    RouteKey key{host, route};
    if (auto found = tx.route(key)) {
      changes.routes.push_back(std::move(*found));
    } else {
      changes.removed.push_back(std::move(key));
    }
  }
  return changes;
}

}  // namespace portico
