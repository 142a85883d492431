#include "store/sqlite/SqliteChangeLog.h"

#include "store/sqlite/Sqlite.h"

namespace portico {
namespace {

constexpr const char* kColumns =
    "SELECT revision, time, actor, COALESCE(client, ''), action, route, COALESCE(target, ''), "
    "COALESCE(before, ''), COALESCE(after, '') FROM changes ";

/// The WHERE clause of a page query after `revision > ?1`: the filters given, as ?2 and ?3.
std::string filters(const ChangeQuery& query) {
  std::string where;
  if (!query.route.empty()) where += " AND route = ?2";
  if (!query.target.empty()) where += " AND target = ?3";
  return where;
}

void bindFilters(SqliteStatement& st, const ChangeQuery& query) {
  if (!query.route.empty()) st.bind(2, query.route);
  if (!query.target.empty()) st.bind(3, query.target);
}

ChangeRecord readRow(const SqliteStatement& st) {
  ChangeRecord c;
  c.revision = st.columnInt(0);
  c.time = st.columnText(1);
  c.actor = st.columnText(2);
  c.client = st.columnText(3);
  c.action = st.columnText(4);
  c.route = st.columnText(5);
  c.target = st.columnText(6);
  c.before = st.columnText(7);
  c.after = st.columnText(8);
  return c;
}

}  // namespace

void writeChanges(SqliteConnection& conn, const ChangeLog& log, std::int64_t revision,
                  std::int64_t limit) {
  SqliteStatement st(conn.get(),
                     "INSERT INTO changes (revision, time, actor, client, action, route, target, "
                     "before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto textOrNull = [&st](int index, const std::string& text) {
    if (text.empty()) {
      st.bindNull(index);
    } else {
      st.bind(index, text);
    }
  };
  for (const auto& row : log.rows()) {
    st.bind(1, revision).bind(2, log.now()).bind(3, log.who().actor);
    textOrNull(4, log.who().client);
    st.bind(5, row.action).bind(6, row.route);
    textOrNull(7, row.target);
    textOrNull(8, row.before);
    textOrNull(9, row.after);
    st.step();
    st.reset();
  }
  // Ids only grow and only the oldest are deleted, so the newest `limit` rows are the ids above
  // max(id) - limit: one index range, however large the table.
  SqliteStatement trim(conn.get(),
                       "DELETE FROM changes WHERE id <= (SELECT MAX(id) FROM changes) - ?");
  trim.bind(1, limit);
  trim.step();
}

ChangePage readChanges(SqliteConnection& conn, const ChangeQuery& query, std::int64_t revision) {
  ChangePage page;
  const std::string where = "WHERE revision > ?1" + filters(query);
  {
    SqliteStatement st(conn.get(), kColumns + where + " ORDER BY revision, id LIMIT " +
                                       std::to_string(static_cast<std::int64_t>(query.limit) + 1));
    st.bind(1, query.since);
    bindFilters(st, query);
    while (st.step()) page.changes.push_back(readRow(st));
  }
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
  if (page.changes.empty()) {
    // One revision has more rows than the limit: it comes whole, a page larger than asked.
    SqliteStatement st(conn.get(),
                       kColumns + ("WHERE revision = ?1" + filters(query)) + " ORDER BY id");
    st.bind(1, cut);
    bindFilters(st, query);
    while (st.step()) page.changes.push_back(readRow(st));
  }
  page.nextSince = page.changes.back().revision;
  return page;
}

}  // namespace portico
