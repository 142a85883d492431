#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>

#include "base/Errors.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using namespace std::chrono_literals;
using portico::RouteKey;
using portico::RouteSpec;
using portico::SqliteStore;
using portico::Store;
using portico::test::sqlite;
using portico::test::TempDir;

namespace {

RouteSpec spec(const std::string& prefix, std::vector<portico::TargetSpec> targets = {}) {
  RouteSpec s;
  s.prefix = prefix;
  s.targets = std::move(targets);
  return s;
}

/// Every row a change could touch: equal before and after a change that must leave nothing.
std::string contents(const std::string& db) {
  return sqlite(db,
                "SELECT * FROM routes; SELECT * FROM targets; SELECT * FROM revision; SELECT * "
                "FROM changes");
}

/// Counts what a Store reports about its writes.
struct CountingObserver : portico::StoreObserver {
  int writes{0};
  int busyCount{0};
  void written(double seconds) override {
    CPPUNIT_ASSERT(seconds >= 0);
    ++writes;
  }
  void busy() override { ++busyCount; }
};

std::vector<portico::Migration> firstMigrations(std::size_t n) {
  const auto& all = portico::embeddedMigrations();
  return {all.begin(), all.begin() + static_cast<long>(n)};
}

}  // namespace

/// The SQLite store on a temp file: migrations, queries, revision bumps, atomicity.
class StoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StoreTest);
  CPPUNIT_TEST(testFreshStore);
  CPPUNIT_TEST(testUpgradeFromPreviousSchema);
  CPPUNIT_TEST(testUpgradedStoreTakesHostRoutes);
  CPPUNIT_TEST(testRefusesNewerStore);
  CPPUNIT_TEST(testReadOnlyAccess);
  CPPUNIT_TEST(testRoutesAndTargets);
  CPPUNIT_TEST(testFailedChangesLeaveNothing);
  CPPUNIT_TEST(testSeedRule);
  CPPUNIT_TEST(testVerdicts);
  CPPUNIT_TEST(testLockedStoreIsBusyNotHalfWritten);
  CPPUNIT_TEST(testCheckSchemaWritesNothing);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFreshStore() {
    TempDir dir;
    const std::string db = dir.file("sub/dir/p.db");  // parent directories are created
    {
      SqliteStore store(db);
      CPPUNIT_ASSERT_EQUAL(static_cast<int>(portico::embeddedMigrations().size()),
                           store.schemaVersion());
      CPPUNIT_ASSERT(store.loadRoutes().empty());
    }
    CPPUNIT_ASSERT_EQUAL(std::string("wal"), sqlite(db, "PRAGMA journal_mode"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(portico::embeddedMigrations().size()),
                         sqlite(db, "PRAGMA user_version"));
    // The contract's column names, for operators using sqlite3.
    CPPUNIT_ASSERT_EQUAL(
        std::string("0"),
        sqlite(db,
               "SELECT count(*) FROM routes WHERE id+length(prefix)+length(balancer)+"
               "health_interval_ms+health_timeout_ms IS NULL"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(db,
                                "SELECT count(*) FROM targets WHERE route_id+length(url)+healthy+"
                                "length(last_checked_at)+length(last_error) IS NOT NULL"));
    // Opening again applies nothing twice.
    SqliteStore again(db);
    CPPUNIT_ASSERT_EQUAL(static_cast<int>(portico::embeddedMigrations().size()),
                         again.schemaVersion());
  }

  void testUpgradeFromPreviousSchema() {
    const auto& all = portico::embeddedMigrations();
    CPPUNIT_ASSERT(all.size() >= 2);
    TempDir dir;
    const std::string db = dir.file("p.db");
    {
      // A store written by the first release, with data in it: every migration since runs
      // over existing rows.
      SqliteStore old(db, Store::Access::ReadWrite, firstMigrations(1));
      CPPUNIT_ASSERT_EQUAL(1, old.schemaVersion());
    }
    sqlite(db, "SELECT 1");  // readable by plain sqlite3
    {
      portico::SqliteConnection c(db, SQLITE_OPEN_READWRITE);
      c.exec(
          "INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms) VALUES "
          "('/old/', 'least_conn', 1000, 500);"
          "INSERT INTO targets (route_id, url, healthy) VALUES (1, 'http://127.0.0.1:1', 0);");
    }
    SqliteStore store(db);
    CPPUNIT_ASSERT_EQUAL(static_cast<int>(all.size()), store.schemaVersion());
    const auto routes = store.loadRoutes();
    CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(routes.size()));
    CPPUNIT_ASSERT_EQUAL(std::string("/old/"), routes[0].prefix);
    CPPUNIT_ASSERT(routes[0].balancer == portico::BalancerKind::LeastConn);
    CPPUNIT_ASSERT(routes[0].health.interval == 1000ms);
    CPPUNIT_ASSERT(routes[0].health.type == portico::ProbeType::Tcp);  // new column's default
    CPPUNIT_ASSERT_EQUAL(1, routes[0].health.fall);
    CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(routes[0].targets.size()));
    CPPUNIT_ASSERT(!routes[0].targets[0].healthy);
    // Columns added since take their defaults.
    CPPUNIT_ASSERT_EQUAL(100, routes[0].targets[0].weight);
    CPPUNIT_ASSERT(routes[0].targets[0].state == portico::ServingState::Active);
    CPPUNIT_ASSERT(routes[0].health.slowStart == 0ms);
    // A route that existed before config seeding was tracked counts as seeded.
    CPPUNIT_ASSERT_EQUAL(std::string("/old/"), sqlite(db, "SELECT prefix FROM config_seeds"));
    // Routes stored before routes had hosts serve any host; their targets still point home
    // after the table was rebuilt, and no policy differs from today's behaviour.
    CPPUNIT_ASSERT_EQUAL(std::string(""), routes[0].host);
    CPPUNIT_ASSERT(routes[0].policies == portico::RoutePolicies{});
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(db, "SELECT count(*) FROM pragma_foreign_key_check"));
    // The history starts empty; an unhealthy target has no serving time to ramp from.
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite(db, "SELECT count(*) FROM changes"));
    CPPUNIT_ASSERT(routes[0].targets[0].servingSince.empty());
    CPPUNIT_ASSERT(!routes[0].targets[0].modifiedAt.empty());
    // Foreign keys are back on once the migrations ran: a delete still cascades.
    store.deleteRoute("/old/");
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite(db, "SELECT count(*) FROM targets"));
  }

  /// A store of the schema before routes had hosts (migration 4), with routes, seeds and
  /// history: after the upgrade its routes are the any-host routes they were, named by prefix
  /// alone as before, and routes of the same prefix on hosts sit beside them.
  void testUpgradedStoreTakesHostRoutes() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    {
      SqliteStore old(db, Store::Access::ReadWrite, firstMigrations(4));
      CPPUNIT_ASSERT_EQUAL(4, old.schemaVersion());
    }
    {
      // Written as that schema's Portico wrote them: a seeded route, two targets, its history.
      portico::SqliteConnection c(db, SQLITE_OPEN_READWRITE);
      c.exec(
          "INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms) VALUES "
          "('/old/', 'round_robin', 1000, 500);"
          "INSERT INTO targets (route_id, url, healthy) VALUES (1, 'http://127.0.0.1:1', 1), "
          "(1, 'http://127.0.0.1:2', 1);"
          "INSERT INTO config_seeds (prefix) VALUES ('/old/');"
          "INSERT INTO changes (revision, time, actor, action, route) VALUES "
          "(1, '2026-01-01T00:00:00.000Z', 'config', 'route.create', '/old/');"
          "UPDATE revision SET value = 1 WHERE id = 1;");
    }
    SqliteStore store(db);
    auto route = store.findRoute("/old/");
    CPPUNIT_ASSERT(route && route->host.empty() && route->targets.size() == 2);
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(db, "SELECT count(*) FROM changes WHERE host != ''"));
    // The same prefix on a host is another route; the old one is untouched.
    auto onHost = spec("/old/", {"http://127.0.0.1:3"});
    onHost.host = "api.example.com";
    store.createRoute(onHost);
    CPPUNIT_ASSERT_THROW(store.createRoute(onHost), portico::Conflict);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.findRoute("/old/")->targets.size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(1),
                         store.findRoute(RouteKey{"api.example.com", "/old/"})->targets.size());
    // A seed keyed by (host, prefix): the old seed does not stop a host's route of its prefix.
    auto seeded = spec("/old/", {"http://127.0.0.1:4"});
    seeded.host = "*.example.com";
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.seed({seeded, spec("/old/")}).size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.loadRoutes().size());
    // History rows of a host's route name it; a filter by route means the any-host one.
    portico::ChangeQuery q;
    q.route = "/old/";
    q.host = "api.example.com";
    const auto page = store.changes(q);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page.changes.size());
    for (const auto& c : page.changes) CPPUNIT_ASSERT_EQUAL(std::string("api.example.com"), c.host);
    q.host = "";
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.changes(q).changes.size());
    // Deleting one host's route leaves the others of the prefix, and reports it by key.
    const auto before = store.revision();
    store.deleteRoute(RouteKey{"api.example.com", "/old/"});
    const auto changed = store.routesChangedSince(before);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), changed.removed.size());
    CPPUNIT_ASSERT(changed.removed[0] == (RouteKey{"api.example.com", "/old/"}));
    CPPUNIT_ASSERT(store.findRoute("/old/"));
  }

  void testRefusesNewerStore() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    { SqliteStore store(db); }
    {
      portico::SqliteConnection c(db, SQLITE_OPEN_READWRITE);
      c.exec("PRAGMA user_version = 99");
    }
    for (auto access : {Store::Access::ReadWrite, Store::Access::ReadOnly}) {
      try {
        SqliteStore store(db, access);
        CPPUNIT_FAIL("opened a store newer than the binary");
      } catch (const portico::StoreError& e) {
        CPPUNIT_ASSERT(std::string(e.what()).find("newer") != std::string::npos);
      }
    }
    CPPUNIT_ASSERT_EQUAL(std::string("99"), sqlite(db, "PRAGMA user_version"));  // left untouched
  }

  void testReadOnlyAccess() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    CPPUNIT_ASSERT_THROW(SqliteStore(db, Store::Access::ReadOnly),
                         portico::StoreNotReady);  // absent
    { SqliteStore old(db, Store::Access::ReadWrite, firstMigrations(1)); }
    CPPUNIT_ASSERT_THROW(SqliteStore(db, Store::Access::ReadOnly),
                         portico::StoreNotReady);  // older: not upgraded
    CPPUNIT_ASSERT_EQUAL(std::string("1"), sqlite(db, "PRAGMA user_version"));
    SqliteStore writer(db);
    writer.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    SqliteStore reader(db, Store::Access::ReadOnly);
    CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(reader.loadRoutes().size()));
    CPPUNIT_ASSERT_EQUAL(writer.revision(), reader.revision());
    CPPUNIT_ASSERT_THROW(reader.createRoute(spec("/b/")), portico::StoreError);
    CPPUNIT_ASSERT_THROW(reader.addTargets("/a/", {"http://127.0.0.1:2"}), portico::StoreError);
  }

  void testRoutesAndTargets() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    auto rev = store.revision();
    RouteSpec s = spec("/api/", {"http://127.0.0.1:1", "http://127.0.0.1:2"});
    s.balancer = portico::BalancerKind::IpHash;
    s.health.type = portico::ProbeType::Http;
    s.health.path = "/healthz";
    s.health.rise = 2;
    const auto created = store.createRoute(s);
    CPPUNIT_ASSERT(store.revision() > rev);
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), created.prefix);
    CPPUNIT_ASSERT(created.health == s.health);
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(created.targets.size()));
    CPPUNIT_ASSERT(created.targets[0].healthy);
    CPPUNIT_ASSERT_THROW(store.createRoute(spec("/api/")), portico::Conflict);

    rev = store.revision();
    CPPUNIT_ASSERT_EQUAL(1,
                         store.addTargets("/api/", {"http://127.0.0.1:2", "http://127.0.0.1:3"}));
    CPPUNIT_ASSERT(store.revision() > rev);
    rev = store.revision();
    CPPUNIT_ASSERT_EQUAL(0, store.addTargets("/api/", {"http://127.0.0.1:3"}));
    CPPUNIT_ASSERT_EQUAL(rev, store.revision());  // nothing changed, nothing bumped
    portico::HealthSpec h = s.health;
    h.interval = 1s;
    CPPUNIT_ASSERT_EQUAL(0, store.addTargets("/api/", {"http://127.0.0.1:3"}, h));
    CPPUNIT_ASSERT(store.revision() > rev);
    CPPUNIT_ASSERT(store.findRoute("/api/")->health.interval == 1s);

    rev = store.revision();
    CPPUNIT_ASSERT_EQUAL(
        1, store.removeTargets("/api/", {"http://127.0.0.1:1", "http://127.0.0.1:9"}));
    CPPUNIT_ASSERT(store.revision() > rev);
    const auto route = store.findRoute("/api/");
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(route->targets.size()));
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:2"), route->targets[0].url);
    CPPUNIT_ASSERT(!store.findRoute("/nope/"));

    store.deleteRoute("/api/");
    CPPUNIT_ASSERT(store.loadRoutes().empty());
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         sqlite(dir.file("p.db"), "SELECT count(*) FROM targets"));  // cascade
    CPPUNIT_ASSERT_THROW(store.deleteRoute("/api/"), portico::NotFound);
  }

  void testFailedChangesLeaveNothing() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    store.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    const std::string before = contents(db);
    CPPUNIT_ASSERT_THROW(store.addTargets("/b/", {"http://127.0.0.1:2"}), portico::NotFound);
    CPPUNIT_ASSERT_THROW(store.removeTargets("/b/", {"http://127.0.0.1:1"}), portico::NotFound);
    CPPUNIT_ASSERT_THROW(store.createRoute(spec("/a/", {"http://127.0.0.1:5"})), portico::Conflict);
    RouteSpec invalid = spec("/c/", {"http://127.0.0.1:5"});
    invalid.health.fall = 0;  // violates a CHECK constraint after the insert began
    CPPUNIT_ASSERT_THROW(store.createRoute(invalid), portico::StoreError);
    CPPUNIT_ASSERT_EQUAL(before, contents(db));
    // The connection is still usable after the rollbacks.
    CPPUNIT_ASSERT_EQUAL(1, store.addTargets("/a/", {"http://127.0.0.1:2"}));
  }

  void testSeedRule() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    const std::vector<RouteSpec> seeds{
        spec("/proxy/", {"http://localhost:8081", "http://localhost:8082"}),
        spec("/personal/", {"http://localhost:8083"})};
    {
      SqliteStore store(db);
      CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(store.seed(seeds).size()));
      store.removeTargets("/proxy/", {"http://localhost:8081"});
      store.deleteRoute("/personal/");
    }
    SqliteStore store(db);  // a restart with the same configuration
    CPPUNIT_ASSERT(store.seed(seeds).empty());
    const auto routes = store.loadRoutes();
    CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(routes.size()));
    CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(routes[0].targets.size()));
    CPPUNIT_ASSERT_EQUAL(std::string("http://localhost:8082"), routes[0].targets[0].url);
    // A route that exists already is owned by the store, even when first seen in configuration.
    store.createRoute(spec("/new/", {"http://localhost:1"}));
    CPPUNIT_ASSERT(store.seed({spec("/new/", {"http://localhost:2"})}).empty());
    CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(store.findRoute("/new/")->targets.size()));
  }

  void testVerdicts() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    const auto route = store.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    const auto id = route.targets[0].id;
    auto rev = store.revision();
    CPPUNIT_ASSERT(!store.recordVerdict(id, true, ""));  // already healthy: no write
    CPPUNIT_ASSERT_EQUAL(rev, store.revision());
    CPPUNIT_ASSERT(store.recordVerdict(id, false, "connect: Connection refused"));
    CPPUNIT_ASSERT_EQUAL(rev + 1, store.revision());
    auto t = store.findRoute("/a/")->targets[0];
    CPPUNIT_ASSERT(!t.healthy);
    CPPUNIT_ASSERT_EQUAL(std::string("connect: Connection refused"), t.lastError);
    CPPUNIT_ASSERT(!t.lastChangedAt.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("0|connect: Connection refused"),
                         sqlite(db, "SELECT healthy, last_error FROM targets"));
    rev = store.revision();
    store.recordChecked({id});
    CPPUNIT_ASSERT_EQUAL(rev, store.revision());  // a sweep's timestamps are not a change
    CPPUNIT_ASSERT(store.recordVerdict(id, true, ""));
    CPPUNIT_ASSERT(store.findRoute("/a/")->targets[0].healthy);
    CPPUNIT_ASSERT(!store.recordVerdict(99999, false, "gone"));  // a removed target
  }

  void testLockedStoreIsBusyNotHalfWritten() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    SqliteStore store(db);
    CountingObserver observer;
    store.setObserver(&observer);
    store.createRoute(spec("/a/", {"http://127.0.0.1:1"}));
    CPPUNIT_ASSERT_EQUAL(1, observer.writes);
    const std::string before = contents(db);
    {
      // Another process holds the write lock for longer than the busy timeout.
      portico::SqliteConnection other(db, SQLITE_OPEN_READWRITE);
      other.exec("BEGIN IMMEDIATE");
      // Check-time stamps are bookkeeping: they give up long before the busy timeout rather
      // than hold up the writes queued behind them.
      const auto id = store.findRoute("/a/")->targets[0].id;
      const auto stamped = std::chrono::steady_clock::now();
      CPPUNIT_ASSERT_THROW(store.recordChecked({id}), portico::StoreBusy);
      CPPUNIT_ASSERT(std::chrono::steady_clock::now() - stamped < 2s);
      const auto started = std::chrono::steady_clock::now();
      try {
        store.addTargets("/a/", {"http://127.0.0.1:2"});
        CPPUNIT_FAIL("wrote while another connection held the lock");
      } catch (const portico::StoreBusy& e) {
        CPPUNIT_ASSERT_MESSAGE(e.what(),
                               std::string(e.what()).find("busy timeout") != std::string::npos);
      }
      // It waited for the lock (the full busy timeout, back after the stamp) before giving up.
      CPPUNIT_ASSERT(std::chrono::steady_clock::now() - started >= 4s);
      // Reads still work in WAL mode while a writer holds the lock.
      CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(store.findRoute("/a/")->targets.size()));
      other.exec("ROLLBACK");
    }
    CPPUNIT_ASSERT_EQUAL(before, contents(db));
    CPPUNIT_ASSERT_EQUAL(2, observer.busyCount);
    CPPUNIT_ASSERT_EQUAL(1, observer.writes);
    // Once the lock is free the same write succeeds.
    CPPUNIT_ASSERT_EQUAL(1, store.addTargets("/a/", {"http://127.0.0.1:2"}));
    CPPUNIT_ASSERT_EQUAL(2, observer.writes);
  }

  void testCheckSchemaWritesNothing() {
    TempDir dir;
    const std::string db = dir.file("p.db");
    const int known = static_cast<int>(portico::embeddedMigrations().size());
    // No file yet: nothing to check, and nothing created.
    CPPUNIT_ASSERT_EQUAL(-1, SqliteStore::checkSchema(db));
    CPPUNIT_ASSERT(!std::filesystem::exists(db));
    { SqliteStore store(db); }
    const auto listing = [&] {
      std::string names;
      for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        names += e.path().filename().string() + ":" + std::to_string(e.file_size()) + " ";
      return names;
    };
    const std::string before = listing();
    CPPUNIT_ASSERT_EQUAL(known, SqliteStore::checkSchema(db));
    CPPUNIT_ASSERT_EQUAL(before, listing());  // no -wal or -shm appeared, nothing grew
    // An older store is fine (the sidecar upgrades it); a newer one is not.
    const std::string older = dir.file("older.db");
    { SqliteStore store(older, Store::Access::ReadWrite, firstMigrations(known - 1)); }
    CPPUNIT_ASSERT_EQUAL(known - 1, SqliteStore::checkSchema(older));
    {
      portico::SqliteConnection c(db, SQLITE_OPEN_READWRITE);
      c.exec("PRAGMA user_version = 99");
    }
    CPPUNIT_ASSERT_THROW(SqliteStore::checkSchema(db), portico::StoreError);
    // A file that is not a database.
    const std::string junk = dir.file("junk.db");
    portico::test::writeFile(junk, std::string(4096, 'x'));
    CPPUNIT_ASSERT_THROW(SqliteStore::checkSchema(junk), portico::StoreError);
  }
};
CPPUNIT_TEST_SUITE_REGISTRATION(StoreTest);
