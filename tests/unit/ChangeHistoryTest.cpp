#include <cppunit/extensions/HelperMacros.h>

#include <map>

#include "base/Errors.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using namespace std::chrono_literals;
using portico::ChangeQuery;
using portico::ChangeRecord;
using portico::IfMatch;
using portico::RouteSpec;
using portico::ServingState;
using portico::SqliteStore;
using portico::Store;
using portico::TargetUpdate;
using portico::WriteContext;
using portico::test::sqlite;
using portico::test::TempDir;

namespace {

RouteSpec spec(const std::string& prefix, std::vector<portico::TargetSpec> targets = {}) {
  RouteSpec s;
  s.prefix = prefix;
  s.targets = std::move(targets);
  return s;
}

/// "action route target actor" of each row, one per line, for compact comparisons.
std::string rows(const std::vector<ChangeRecord>& changes) {
  std::string out;
  for (const auto& c : changes)
    out +=
        c.action + " " + c.route + " " + (c.target.empty() ? "-" : c.target) + " " + c.actor + "\n";
  return out;
}

std::vector<ChangeRecord> since(Store& store, std::int64_t revision) {
  ChangeQuery q;
  q.since = revision;
  q.limit = 1000;
  return store.changes(q).changes;
}

const WriteContext kAlice = WriteContext::api("192.0.2.10");
constexpr const char* kLongAgo = "2001-02-03T04:05:06.789Z";

/// Sets a column of every target behind the store's back, to see whether a write moves it.
void setColumn(const std::string& db, const std::string& column, const std::string& value) {
  portico::SqliteConnection c(db, SQLITE_OPEN_READWRITE);
  c.exec("UPDATE targets SET " + column + " = '" + value + "'");
}

}  // namespace

/// The change history: a row for each kind of change, written with the change, paged by
/// revision; weights, states and If-Match in the store.
class ChangeHistoryTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ChangeHistoryTest);
  CPPUNIT_TEST(testRowsForApiChanges);
  CPPUNIT_TEST(testRowsForSeedAndHealth);
  CPPUNIT_TEST(testNoChangeNoRowNoBump);
  CPPUNIT_TEST(testWeightAndStateUpdates);
  CPPUNIT_TEST(testDisabledTargetIsNotChecked);
  CPPUNIT_TEST(testIfMatchCheckedInsideTheWrite);
  CPPUNIT_TEST(testHistoryLimitDropsOldestRows);
  CPPUNIT_TEST(testPagesNeverSplitARevision);
  CPPUNIT_TEST(testFilters);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRowsForApiChanges() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    std::int64_t rev = 0;
    store.createRoute(spec("/a/", {{"http://127.0.0.1:1", 30}, "http://127.0.0.1:2"}), kAlice,
                      &rev);
    CPPUNIT_ASSERT_EQUAL(store.revision(), rev);
    auto changes = since(store, 0);
    CPPUNIT_ASSERT_EQUAL(std::string("route.create /a/ - api\n"
                                     "target.add /a/ http://127.0.0.1:1 api\n"
                                     "target.add /a/ http://127.0.0.1:2 api\n"),
                         rows(changes));
    for (const auto& c : changes) {
      CPPUNIT_ASSERT_EQUAL(rev, c.revision);  // one change, one revision
      CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.10"), c.client);
      CPPUNIT_ASSERT_EQUAL(changes[0].time, c.time);
    }
    CPPUNIT_ASSERT(changes[0].before.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("{\"weight\":30,\"state\":\"active\",\"healthy\":true}"),
                         changes[1].after);
    CPPUNIT_ASSERT_EQUAL(std::string("round_robin|3s"),
                         sqlite(db,
                                "SELECT json_extract(after, '$.balancer'), "
                                "json_extract(after, '$.healthCheck.timeout') FROM changes "
                                "WHERE action = 'route.create'"));

    portico::HealthSpec h;
    h.slowStart = 30s;
    store.addTargets("/a/", {{"http://127.0.0.1:3", 5}}, h, kAlice, &rev);
    CPPUNIT_ASSERT_EQUAL(std::string("target.add /a/ http://127.0.0.1:3 api\n"
                                     "route.health_check /a/ - api\n"),
                         rows(since(store, rev - 1)));
    CPPUNIT_ASSERT_EQUAL(std::string("0ms|30s"),
                         sqlite(db,
                                "SELECT json_extract(before, '$.slowStart'), "
                                "json_extract(after, '$.slowStart') FROM changes WHERE "
                                "action = 'route.health_check'"));

    store.removeTargets("/a/", {"http://127.0.0.1:2"}, kAlice, &rev);
    auto removed = since(store, rev - 1);
    CPPUNIT_ASSERT_EQUAL(std::string("target.remove /a/ http://127.0.0.1:2 api\n"), rows(removed));
    CPPUNIT_ASSERT_EQUAL(std::string("{\"weight\":100,\"state\":\"active\",\"healthy\":true}"),
                         removed[0].before);
    CPPUNIT_ASSERT(removed[0].after.empty());

    store.deleteRoute("/a/", kAlice, &rev);
    CPPUNIT_ASSERT_EQUAL(std::string("target.remove /a/ http://127.0.0.1:1 api\n"
                                     "target.remove /a/ http://127.0.0.1:3 api\n"
                                     "route.delete /a/ - api\n"),
                         rows(since(store, rev - 1)));
    // Revisions in the history are the store's, gapless since the store began.
    CPPUNIT_ASSERT_EQUAL(std::string("2,3,4,5"),
                         sqlite(db,
                                "SELECT group_concat(revision) FROM (SELECT DISTINCT "
                                "revision FROM changes ORDER BY revision)"));
  }

  void testRowsForSeedAndHealth() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.seed({spec("/s/", {"http://127.0.0.1:1"})});
    CPPUNIT_ASSERT_EQUAL(std::string("route.create /s/ - config\n"
                                     "target.add /s/ http://127.0.0.1:1 config\n"),
                         rows(since(store, 0)));
    const auto id = store.findRoute("/s/")->targets[0].id;
    const auto rev = store.revision();
    CPPUNIT_ASSERT(store.recordVerdict(id, false, "connect: Connection refused"));
    CPPUNIT_ASSERT(store.recordVerdict(id, true, ""));
    const auto health = since(store, rev);
    CPPUNIT_ASSERT_EQUAL(std::string("target.health /s/ http://127.0.0.1:1 health\n"
                                     "target.health /s/ http://127.0.0.1:1 health\n"),
                         rows(health));
    CPPUNIT_ASSERT_EQUAL(std::string("{\"healthy\":true}"), health[0].before);
    CPPUNIT_ASSERT_EQUAL(
        std::string("{\"healthy\":false,\"error\":\"connect: Connection refused\"}"),
        health[0].after);
    CPPUNIT_ASSERT_EQUAL(health[0].after, health[1].before);
    CPPUNIT_ASSERT_EQUAL(std::string("{\"healthy\":true}"), health[1].after);
    CPPUNIT_ASSERT(health[0].client.empty());
    CPPUNIT_ASSERT_EQUAL(rev + 1, health[0].revision);
    CPPUNIT_ASSERT_EQUAL(rev + 2, health[1].revision);
    // Turning healthy restarts the slow-start clock.
    const auto t = store.findRoute("/s/")->targets[0];
    CPPUNIT_ASSERT_EQUAL(t.lastChangedAt, t.servingSince);
  }

  void testNoChangeNoRowNoBump() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    store.createRoute(spec("/a/", {{"http://127.0.0.1:1", 40}}));
    const auto before = sqlite(db, "SELECT count(*), max(revision) FROM changes");
    const auto rev = store.revision();
    std::int64_t seen = -1;
    CPPUNIT_ASSERT_EQUAL(0,
                         store.addTargets("/a/", {"http://127.0.0.1:1"}, std::nullopt, {}, &seen));
    CPPUNIT_ASSERT_EQUAL(rev, seen);
    CPPUNIT_ASSERT_EQUAL(0, store.removeTargets("/a/", {"http://127.0.0.1:9"}));
    TargetUpdate same;
    same.weight = 40;
    same.state = ServingState::Active;
    store.updateTarget("/a/", "http://127.0.0.1:1", same, {}, &seen);
    CPPUNIT_ASSERT_EQUAL(rev, seen);
    CPPUNIT_ASSERT(!store.recordVerdict(store.findRoute("/a/")->targets[0].id, true, ""));
    CPPUNIT_ASSERT_EQUAL(rev, store.revision());
    CPPUNIT_ASSERT_EQUAL(before, sqlite(db, "SELECT count(*), max(revision) FROM changes"));
  }

  void testWeightAndStateUpdates() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    const auto created = store.findRoute("/a/")->targets[0];
    TargetUpdate update;
    update.weight = 0;
    update.state = ServingState::Draining;
    std::int64_t rev = 0;
    const auto t = store.updateTarget("/a/", "http://127.0.0.1:1", update, kAlice, &rev);
    CPPUNIT_ASSERT_EQUAL(0, t.weight);
    CPPUNIT_ASSERT(t.state == ServingState::Draining);
    CPPUNIT_ASSERT(t.modifiedAt >= created.modifiedAt);
    CPPUNIT_ASSERT_EQUAL(created.servingSince, t.servingSince);  // draining: no new ramp
    const auto changes = since(store, rev - 1);
    CPPUNIT_ASSERT_EQUAL(std::string("target.weight /a/ http://127.0.0.1:1 api\n"
                                     "target.state /a/ http://127.0.0.1:1 api\n"),
                         rows(changes));
    CPPUNIT_ASSERT_EQUAL(std::string("{\"weight\":100}"), changes[0].before);
    CPPUNIT_ASSERT_EQUAL(std::string("{\"weight\":0}"), changes[0].after);
    CPPUNIT_ASSERT_EQUAL(std::string("{\"state\":\"draining\"}"), changes[1].after);

    // Back to active: in rotation again, slow start counts from now.
    setColumn(dir.file("p.db"), "serving_since", kLongAgo);
    TargetUpdate resume;
    resume.state = ServingState::Active;
    const auto back = store.updateTarget("/a/", "http://127.0.0.1:1", resume, kAlice);
    CPPUNIT_ASSERT(back.servingSince > kLongAgo);
    CPPUNIT_ASSERT_EQUAL(back.modifiedAt, back.servingSince);

    CPPUNIT_ASSERT_THROW(store.updateTarget("/b/", "http://127.0.0.1:1", resume),
                         portico::NotFound);
    CPPUNIT_ASSERT_THROW(store.updateTarget("/a/", "http://127.0.0.1:2", resume),
                         portico::NotFound);
    TargetUpdate heavy;
    heavy.weight = 1001;
    CPPUNIT_ASSERT_THROW(store.updateTarget("/a/", "http://127.0.0.1:1", heavy),
                         portico::InvalidInput);
    CPPUNIT_ASSERT_THROW(store.addTargets("/a/", {{"http://127.0.0.1:5", -1}}),
                         portico::InvalidInput);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.findRoute("/a/")->targets.size());
  }

  void testDisabledTargetIsNotChecked() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    const auto id = store.findRoute("/a/")->targets[0].id;
    store.recordChecked({id});
    TargetUpdate off;
    off.state = ServingState::Disabled;
    store.updateTarget("/a/", "http://127.0.0.1:1", off);
    setColumn(dir.file("p.db"), "last_checked_at", kLongAgo);
    const auto rev = store.revision();
    // A probe that was in flight when the target was disabled changes nothing.
    CPPUNIT_ASSERT(!store.recordVerdict(id, false, "late"));
    store.recordChecked({id});
    const auto after = store.findRoute("/a/")->targets[0];
    CPPUNIT_ASSERT(after.healthy);
    CPPUNIT_ASSERT_EQUAL(std::string(kLongAgo), after.lastCheckedAt);
    CPPUNIT_ASSERT_EQUAL(rev, store.revision());
  }

  void testIfMatchCheckedInsideTheWrite() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    store.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    const auto rev = store.revision();
    const auto snapshot = [&] {
      return sqlite(db,
                    "SELECT * FROM routes; SELECT * FROM targets; SELECT * FROM revision; "
                    "SELECT * FROM changes");
    };
    const std::string before = snapshot();
    const auto stale =
        WriteContext::api("192.0.2.1", IfMatch::parse("\"" + std::to_string(rev - 1) + "\""));
    TargetUpdate drain;
    drain.state = ServingState::Draining;
    auto refused = [&](auto write) {
      try {
        write();
        return false;
      } catch (const portico::PreconditionFailed& e) {
        CPPUNIT_ASSERT_EQUAL(rev, e.revision());
        return true;
      }
    };
    CPPUNIT_ASSERT(refused([&] { store.createRoute(spec("/b/"), stale); }));
    CPPUNIT_ASSERT(refused([&] { store.addTargets("/a/", {"http://127.0.0.1:2"}, {}, stale); }));
    CPPUNIT_ASSERT(refused([&] { store.removeTargets("/a/", {"http://127.0.0.1:1"}, stale); }));
    CPPUNIT_ASSERT(refused([&] { store.updateTarget("/a/", "http://127.0.0.1:1", drain, stale); }));
    CPPUNIT_ASSERT(refused([&] { store.deleteRoute("/a/", stale); }));
    // Checked before anything else: a stale writer learns it is stale, not that a route exists.
    CPPUNIT_ASSERT(refused([&] { store.createRoute(spec("/a/"), stale); }));
    CPPUNIT_ASSERT_EQUAL(before, snapshot());

    // Two writers that read the same revision: the first wins, the second is refused.
    const auto current =
        WriteContext::api("192.0.2.1", IfMatch::parse("\"" + std::to_string(rev) + "\""));
    std::int64_t after = 0;
    store.updateTarget("/a/", "http://127.0.0.1:1", drain, current, &after);
    CPPUNIT_ASSERT_EQUAL(rev + 1, after);
    TargetUpdate weigh;
    weigh.weight = 5;
    CPPUNIT_ASSERT_THROW(store.updateTarget("/a/", "http://127.0.0.1:1", weigh, current),
                         portico::PreconditionFailed);
    CPPUNIT_ASSERT_EQUAL(100, store.findRoute("/a/")->targets[0].weight);
    // A list naming the current revision passes.
    store.updateTarget(
        "/a/", "http://127.0.0.1:1", weigh,
        WriteContext::api("", IfMatch::parse("\"1\", \"" + std::to_string(after) + "\"")));
    CPPUNIT_ASSERT_EQUAL(5, store.findRoute("/a/")->targets[0].weight);
  }

  void testHistoryLimitDropsOldestRows() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    store.setHistoryLimit(5);
    store.createRoute(spec("/a/", {"http://127.0.0.1:1", "http://127.0.0.1:2"}));  // 3 rows
    for (int w = 1; w <= 4; ++w) {
      TargetUpdate u;
      u.weight = w;
      store.updateTarget("/a/", "http://127.0.0.1:1", u);
    }
    CPPUNIT_ASSERT_EQUAL(std::string("5"), sqlite(db, "SELECT count(*) FROM changes"));
    // The newest five: the last add and the four weight changes.
    const auto kept = since(store, 0);
    CPPUNIT_ASSERT_EQUAL(std::string("target.add"), kept.front().action);
    CPPUNIT_ASSERT_EQUAL(std::string("{\"weight\":4}"), kept.back().after);
    CPPUNIT_ASSERT_THROW(store.setHistoryLimit(0), portico::InvalidInput);
  }

  void testPagesNeverSplitARevision() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    // Revision 2: 4 rows; revisions 3..7: 1 row each.
    store.createRoute(
        spec("/a/", {"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"}));
    for (int w = 1; w <= 5; ++w) {
      TargetUpdate u;
      u.weight = w;
      store.updateTarget("/a/", "http://127.0.0.1:1", u);
    }
    ChangeQuery q;
    q.limit = 3;  // smaller than revision 2's rows: that revision comes whole anyway
    auto page = store.changes(q);
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), page.changes.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), page.nextSince);
    q.since = page.nextSince;
    q.limit = 2;
    page = store.changes(q);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page.changes.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(4), page.nextSince);
    // Following nextSince to the end reads every row once, in order.
    std::vector<std::int64_t> revisions;
    for (q.since = 0, q.limit = 5;;) {
      page = store.changes(q);
      for (const auto& c : page.changes) revisions.push_back(c.revision);
      if (page.changes.empty()) break;
      q.since = page.nextSince;
    }
    CPPUNIT_ASSERT_EQUAL(std::size_t(9), revisions.size());
    CPPUNIT_ASSERT(std::is_sorted(revisions.begin(), revisions.end()));
    // A page that is not full ends at the store's revision: nothing below it can appear later.
    CPPUNIT_ASSERT_EQUAL(store.revision(), page.nextSince);
    q.since = 999;  // ahead of this store (one that was replaced): brought back to it
    CPPUNIT_ASSERT_EQUAL(store.revision(), store.changes(q).nextSince);
  }

  void testFilters() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.createRoute(spec("/a/", {"http://127.0.0.1:1", "http://127.0.0.1:2"}));
    store.createRoute(spec("/b/", {"http://127.0.0.1:1"}));
    TargetUpdate u;
    u.weight = 7;
    store.updateTarget("/b/", "http://127.0.0.1:1", u);
    ChangeQuery q;
    q.route = "/b/";
    CPPUNIT_ASSERT_EQUAL(std::string("route.create /b/ - api\n"
                                     "target.add /b/ http://127.0.0.1:1 api\n"
                                     "target.weight /b/ http://127.0.0.1:1 api\n"),
                         rows(store.changes(q).changes));
    q.route.clear();
    q.target = "http://127.0.0.1:1";
    CPPUNIT_ASSERT_EQUAL(std::string("target.add /a/ http://127.0.0.1:1 api\n"
                                     "target.add /b/ http://127.0.0.1:1 api\n"
                                     "target.weight /b/ http://127.0.0.1:1 api\n"),
                         rows(store.changes(q).changes));
    q.route = "/a/";
    CPPUNIT_ASSERT_EQUAL(std::string("target.add /a/ http://127.0.0.1:1 api\n"),
                         rows(store.changes(q).changes));
    // A filtered page that is not full still ends at the store's revision.
    CPPUNIT_ASSERT_EQUAL(store.revision(), store.changes(q).nextSince);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChangeHistoryTest);
