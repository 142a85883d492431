// One suite of store tests, built twice: against SqliteStore (a file; label unit) and against
// PostgresStore (a server the test starts; label e2e). Both implementations must give the same
// answers, so the two cannot drift apart.

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "base/Errors.h"
#include "store/Migrations.h"
#include "store/StoreWriter.h"
#include "store/factory/StoreFactory.h"
#include "support/StoreBackend.h"
#include "support/TestSupport.h"

using namespace std::chrono_literals;
using portico::ChangeQuery;
using portico::HealthSpec;
using portico::IfMatch;
using portico::RouteSpec;
using portico::ServingState;
using portico::Store;
using portico::StoreLocation;
using portico::TargetUpdate;
using portico::WriteContext;

namespace {

using Backend = portico::test::StoreBackend;

// Every migration of the source tree, applied (each store has the same number of steps).
const int kSchemaVersion = static_cast<int>(portico::embeddedMigrations().size());

RouteSpec spec(const std::string& prefix, std::vector<portico::TargetSpec> targets = {}) {
  RouteSpec s;
  s.prefix = prefix;
  s.targets = std::move(targets);
  return s;
}

std::vector<std::string> urls(const portico::RouteRecord& route) {
  std::vector<std::string> out;
  for (const auto& t : route.targets) out.push_back(t.url);
  return out;
}

std::int64_t targetId(Store& store, const std::string& prefix, const std::string& url) {
  const auto route = store.findRoute(prefix);
  for (const auto& t : route->targets) {
    if (t.url == url) return t.id;
  }
  CPPUNIT_FAIL("no target " + url);
  return 0;
}

}  // namespace

class StoreConformanceTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StoreConformanceTest);
  CPPUNIT_TEST(testFreshStore);
  CPPUNIT_TEST(testRoutesAndTargets);
  CPPUNIT_TEST(testGrpcHealthCheckStored);
  CPPUNIT_TEST(testTargetUpdates);
  CPPUNIT_TEST(testIfMatchAndFailedWritesChangeNothing);
  CPPUNIT_TEST(testSeedOnce);
  CPPUNIT_TEST(testVerdictsAndHistory);
  CPPUNIT_TEST(testHistoryPagesAndLimit);
  CPPUNIT_TEST(testRoutesChangedSinceAndPages);
  CPPUNIT_TEST(testRoutePagesInByteOrder);
  CPPUNIT_TEST(testSchemaVersions);
  CPPUNIT_TEST(testReadOnlyNeverWrites);
  CPPUNIT_TEST(testTwoWritersOneRoute);
  CPPUNIT_TEST(testLeasesSpreadAndExpire);
  CPPUNIT_TEST(testClaimTakesOnlyFreeLeases);
  CPPUNIT_TEST(testRenewalInSlices);
  CPPUNIT_TEST(testVerdictOnlyByLeaseHolder);
  CPPUNIT_TEST(testApplyConfigIsOneRevision);
  CPPUNIT_TEST(testHistoryAfterAndRevertRows);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// PUT /endpoints/config's write: one revision, a row per change, verdicts and ids kept.
  void testApplyConfigIsOneRevision() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/a/", {"http://a:1", "http://b:1", "http://x:1"}));
    store->createRoute(spec("/gone/", {"http://g:1"}));
    const auto b1 = targetId(*store, "/a/", "http://b:1");
    CPPUNIT_ASSERT(store->recordVerdict(b1, false, "refused"));
    const auto at = store->revision();

    RouteSpec a = spec("/a/", {{"http://a:1", 5}, "http://b:1", "http://c:1"});
    a.targets[1].state = ServingState::Draining;
    a.targets[1].maxConnections = 4;
    a.balancer = portico::BalancerKind::IpHash;
    RouteSpec n = spec("/new/", {"http://n:1"});
    n.host = "n.example";
    std::int64_t revision = 0;
    const auto changes = store->applyConfig({a, n}, WriteContext::api("192.0.2.9"), &revision);
    CPPUNIT_ASSERT_EQUAL(at + 1, revision);
    CPPUNIT_ASSERT_EQUAL(revision, store->revision());
    ChangeQuery q;
    q.since = at;
    const auto rows = store->changes(q).changes;
    CPPUNIT_ASSERT_EQUAL(changes.size(), rows.size());
    std::string actions;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CPPUNIT_ASSERT_EQUAL(changes[i].action, rows[i].action);
      CPPUNIT_ASSERT_EQUAL(std::string("api"), rows[i].actor);
      CPPUNIT_ASSERT_EQUAL(std::int64_t{-1}, rows[i].revertOf);
      actions += rows[i].action + " ";
    }
    CPPUNIT_ASSERT_EQUAL(
        std::string("route.update target.weight target.max_connections "
                    "target.state target.add target.remove target.remove route.delete "
                    "route.create target.add "),
        actions);
    const auto after = store->findRoute("/a/");
    CPPUNIT_ASSERT(after->balancer == portico::BalancerKind::IpHash);
    CPPUNIT_ASSERT((std::vector<std::string>{"http://a:1", "http://b:1", "http://c:1"}) ==
                   urls(*after));
    CPPUNIT_ASSERT_EQUAL(5, after->targets[0].weight);
    CPPUNIT_ASSERT_EQUAL(b1, after->targets[1].id);  // stayed: same row, same verdict
    CPPUNIT_ASSERT(!after->targets[1].healthy);
    CPPUNIT_ASSERT(after->targets[1].state == ServingState::Draining);
    CPPUNIT_ASSERT_EQUAL(4, after->targets[1].maxConnections);
    CPPUNIT_ASSERT(!store->findRoute("/gone/"));
    CPPUNIT_ASSERT_EQUAL(std::size_t{1}, store->findRoute({"n.example", "/new/"})->targets.size());

    // The same state again: no change, no revision.
    CPPUNIT_ASSERT(store->applyConfig({a, n}, {}, &revision).empty());
    CPPUNIT_ASSERT_EQUAL(at + 1, revision);
    // If-Match checked in the transaction; a bad weight anywhere writes nothing.
    const auto stale =
        WriteContext::api("192.0.2.9", IfMatch::parse("\"" + std::to_string(at) + "\""));
    CPPUNIT_ASSERT_THROW(store->applyConfig({}, stale), portico::PreconditionFailed);
    CPPUNIT_ASSERT_THROW(store->applyConfig({spec("/z/", {{"http://z:1", 5000}})}),
                         portico::InvalidInput);
    CPPUNIT_ASSERT_EQUAL(at + 1, store->revision());
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, store->loadRoutes().size());
  }

  /// What a revert reads, and the revertOf its rows carry.
  void testHistoryAfterAndRevertRows() {
    Backend b;
    auto store = b.open();
    const auto first = store->revision();
    store->createRoute(spec("/a/", {"http://a:1"}));
    store->createRoute(spec("/b/"));
    auto history = store->historyAfter(first);
    CPPUNIT_ASSERT(history.complete);
    CPPUNIT_ASSERT_EQUAL(first + 2, history.revision);
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, history.routes.size());
    CPPUNIT_ASSERT_EQUAL(std::size_t{3}, history.changes.size());  // create, add, create
    CPPUNIT_ASSERT_EQUAL(std::string("route.create"), history.changes[2].action);
    CPPUNIT_ASSERT(store->historyAfter(first + 2).changes.empty());

    auto who = WriteContext::api("192.0.2.9");
    who.revertOf = first + 1;
    store->applyConfig({spec("/a/", {"http://a:1"})}, who);
    ChangeQuery q;
    q.since = first + 2;
    const auto rows = store->changes(q).changes;
    CPPUNIT_ASSERT_EQUAL(std::size_t{1}, rows.size());
    CPPUNIT_ASSERT_EQUAL(std::string("route.delete"), rows[0].action);
    CPPUNIT_ASSERT_EQUAL(first + 1, rows[0].revertOf);

    // Trimmed to the last two rows: revisions before the oldest kept cannot be rebuilt.
    store->setHistoryLimit(2);
    store->createRoute(spec("/c/"));
    history = store->historyAfter(first);
    CPPUNIT_ASSERT(!history.complete);
    CPPUNIT_ASSERT_EQUAL(first + 3, history.oldest);
    CPPUNIT_ASSERT(history.changes.empty());
    CPPUNIT_ASSERT(store->historyAfter(first + 3).complete);
  }

  void testFreshStore() {
    Backend b;
    {
      auto store = b.open();
      CPPUNIT_ASSERT_EQUAL(std::int64_t(1), store->revision());
      CPPUNIT_ASSERT(store->loadRoutes().empty());
      CPPUNIT_ASSERT_EQUAL(kSchemaVersion, store->schemaVersion());
      CPPUNIT_ASSERT(!store->findRoute("/none/"));
    }
    CPPUNIT_ASSERT_EQUAL(kSchemaVersion, portico::checkStoreSchema(b.location()));
  }

  /// A grpc check's service is stored with the route (routes.health_grpc_service) and changes
  /// with its health check.
  void testGrpcHealthCheckStored() {
    Backend b;
    auto store = b.open();
    RouteSpec s = spec("/g/", {"http://a:1"});
    s.health.type = portico::ProbeType::Grpc;
    s.health.grpcService = "portico.test.Echo";
    store->createRoute(s);
    CPPUNIT_ASSERT(store->findRoute("/g/")->health == s.health);
    HealthSpec h = s.health;
    h.grpcService = "";
    CPPUNIT_ASSERT_EQUAL(0, store->addTargets("/g/", {}, h));
    CPPUNIT_ASSERT_EQUAL(std::string(""), store->findRoute("/g/")->health.grpcService);
    CPPUNIT_ASSERT(store->findRoute("/g/")->health == h);
  }

  void testRoutesAndTargets() {
    Backend b;
    auto store = b.open();
    RouteSpec s = spec("/api/", {"http://a:1", {"http://b:2", 300}});
    s.balancer = portico::BalancerKind::LeastConn;
    s.health.interval = 750ms;
    s.health.type = portico::ProbeType::Http;
    s.health.path = "/healthz";
    s.health.fall = 3;
    std::int64_t revision = 0;
    const auto created = store->createRoute(s, {}, &revision);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), revision);
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), created.prefix);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), created.targets.size());
    CPPUNIT_ASSERT_EQUAL(300, created.targets[1].weight);
    CPPUNIT_ASSERT_THROW(store->createRoute(spec("/api/")), portico::Conflict);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), store->revision());

    auto found = store->findRoute("/api/", &revision);
    CPPUNIT_ASSERT(found);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), revision);
    CPPUNIT_ASSERT(found->balancer == portico::BalancerKind::LeastConn);
    CPPUNIT_ASSERT(found->health == s.health);
    CPPUNIT_ASSERT(found->targets[0].healthy);
    CPPUNIT_ASSERT(!found->targets[0].servingSince.empty());

    CPPUNIT_ASSERT_EQUAL(1, store->addTargets("/api/", {"http://a:1", "http://c:3"}));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3), store->revision());
    CPPUNIT_ASSERT_EQUAL(0, store->addTargets("/api/", {"http://c:3"}));  // nothing: no bump
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3), store->revision());
    HealthSpec h;
    h.interval = 2s;
    CPPUNIT_ASSERT_EQUAL(0, store->addTargets("/api/", {}, h));
    CPPUNIT_ASSERT(store->findRoute("/api/")->health == h);
    CPPUNIT_ASSERT_EQUAL(2,
                         store->removeTargets("/api/", {"http://a:1", "http://c:3", "http://x:9"}));
    CPPUNIT_ASSERT((std::vector<std::string>{"http://b:2"}) == urls(*store->findRoute("/api/")));
    CPPUNIT_ASSERT_THROW(store->addTargets("/none/", {"http://a:1"}), portico::NotFound);
    CPPUNIT_ASSERT_THROW(store->removeTargets("/none/", {"http://a:1"}), portico::NotFound);

    store->createRoute(spec("/a/", {"http://z:1"}));
    const auto all = store->loadRoutes(&revision);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), all.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/a/"), all[0].prefix);  // ordered by prefix
    CPPUNIT_ASSERT_EQUAL(store->revision(), revision);
    store->deleteRoute("/api/");
    CPPUNIT_ASSERT(!store->findRoute("/api/"));
    CPPUNIT_ASSERT_THROW(store->deleteRoute("/api/"), portico::NotFound);
  }

  void testTargetUpdates() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/r/", {"http://a:1"}));
    TargetUpdate u;
    u.weight = 0;
    u.state = ServingState::Draining;
    const auto t = store->updateTarget("/r/", "http://a:1", u);
    CPPUNIT_ASSERT_EQUAL(0, t.weight);
    CPPUNIT_ASSERT(t.state == ServingState::Draining);
    TargetUpdate bad;
    bad.weight = 1001;
    CPPUNIT_ASSERT_THROW(store->updateTarget("/r/", "http://a:1", bad), portico::InvalidInput);
    CPPUNIT_ASSERT_THROW(store->updateTarget("/r/", "http://b:1", u), portico::NotFound);
    CPPUNIT_ASSERT_THROW(store->updateTarget("/x/", "http://a:1", u), portico::NotFound);
    const auto before = store->revision();
    store->updateTarget("/r/", "http://a:1", u);  // the same values: no change, no bump
    CPPUNIT_ASSERT_EQUAL(before, store->revision());
  }

  void testIfMatchAndFailedWritesChangeNothing() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/r/"));
    const auto at = store->revision();
    const auto stale =
        WriteContext::api("192.0.2.1", IfMatch::parse("\"" + std::to_string(at - 1) + "\""));
    CPPUNIT_ASSERT_THROW(store->addTargets("/r/", {"http://a:1"}, std::nullopt, stale),
                         portico::PreconditionFailed);
    const auto fresh =
        WriteContext::api("192.0.2.1", IfMatch::parse("\"" + std::to_string(at) + "\""));
    CPPUNIT_ASSERT_EQUAL(1, store->addTargets("/r/", {"http://a:1"}, std::nullopt, fresh));
    // A bad weight in the middle of a batch: nothing of the batch stays.
    CPPUNIT_ASSERT_THROW(store->addTargets("/r/", {"http://b:1", {"http://c:1", 5000}}),
                         portico::InvalidInput);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), store->findRoute("/r/")->targets.size());
    CPPUNIT_ASSERT_EQUAL(at + 1, store->revision());
  }

  void testSeedOnce() {
    Backend b;
    auto store = b.open();
    const auto created = store->seed({spec("/s/", {"http://a:1"}), spec("/t/")});
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), created.size());
    store->deleteRoute("/s/");
    CPPUNIT_ASSERT(store->seed({spec("/s/", {"http://a:1"}), spec("/t/")}).empty());
    CPPUNIT_ASSERT(!store->findRoute("/s/"));
    ChangeQuery q;
    const auto page = store->changes(q);
    CPPUNIT_ASSERT_EQUAL(std::string("config"), page.changes.front().actor);
  }

  void testVerdictsAndHistory() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/r/", {"http://a:1"}));
    const auto id = targetId(*store, "/r/", "http://a:1");
    const auto before = store->revision();
    CPPUNIT_ASSERT(!store->recordVerdict(id, true, ""));  // already healthy
    CPPUNIT_ASSERT(store->recordVerdict(id, false, "connect: refused"));
    CPPUNIT_ASSERT(!store->recordVerdict(id, false, "connect: refused"));
    CPPUNIT_ASSERT_EQUAL(before + 1, store->revision());
    auto t = store->findRoute("/r/")->targets.front();
    CPPUNIT_ASSERT(!t.healthy);
    CPPUNIT_ASSERT_EQUAL(std::string("connect: refused"), t.lastError);
    CPPUNIT_ASSERT(!t.lastChangedAt.empty());
    store->recordChecked({id});
    CPPUNIT_ASSERT_EQUAL(before + 1, store->revision());  // a stamp is no change
    CPPUNIT_ASSERT(!store->findRoute("/r/")->targets.front().lastCheckedAt.empty());
    TargetUpdate off;
    off.state = ServingState::Disabled;
    store->updateTarget("/r/", "http://a:1", off);
    CPPUNIT_ASSERT(!store->recordVerdict(id, true, ""));      // disabled targets are not checked
    CPPUNIT_ASSERT(!store->recordVerdict(999999, true, ""));  // gone

    ChangeQuery q;
    q.since = before;
    const auto page = store->changes(q);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page.changes.size());
    CPPUNIT_ASSERT_EQUAL(std::string("target.health"), page.changes[0].action);
    CPPUNIT_ASSERT_EQUAL(std::string("health"), page.changes[0].actor);
    CPPUNIT_ASSERT_EQUAL(std::string("target.state"), page.changes[1].action);
    CPPUNIT_ASSERT_EQUAL(store->revision(), page.nextSince);
  }

  /// What followers reload (the routes the history names since a revision, everything after a
  /// gap) and the paged route list.
  void testRoutesChangedSinceAndPages() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/a/", {"http://a:1"}));
    store->createRoute(spec("/b/", {"http://b:1"}));
    store->createRoute(spec("/c/"));
    const auto since = store->revision();
    auto none = store->routesChangedSince(since);
    CPPUNIT_ASSERT(none.complete && none.routes.empty() && none.removed.empty());
    CPPUNIT_ASSERT_EQUAL(since, none.revision);
    store->addTargets("/a/", {"http://a:2"});
    store->deleteRoute("/c/");
    store->recordVerdict(targetId(*store, "/b/", "http://b:1"), false, "down");
    auto changes = store->routesChangedSince(since);
    CPPUNIT_ASSERT(changes.complete);
    CPPUNIT_ASSERT_EQUAL(store->revision(), changes.revision);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), changes.routes.size());
    std::sort(changes.routes.begin(), changes.routes.end(),
              [](const auto& x, const auto& y) { return x.prefix < y.prefix; });
    CPPUNIT_ASSERT_EQUAL(std::string("/a/"), changes.routes[0].prefix);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), changes.routes[0].targets.size());
    CPPUNIT_ASSERT(!changes.routes[1].targets.at(0).healthy);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), changes.removed.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/c/"), changes.removed[0].prefix);
    const auto all = store->routesChangedSince(-1);
    CPPUNIT_ASSERT(!all.complete);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), all.routes.size());
    // A history trimmed past `since`: everything.
    store->setHistoryLimit(1);
    store->createRoute(spec("/d/", {"http://d:1", "http://d:2"}));
    const auto gap = store->routesChangedSince(since);
    CPPUNIT_ASSERT(!gap.complete);
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), gap.routes.size());

    std::int64_t revision = -1;
    auto page = store->loadRoutePage("", 2, &revision);
    CPPUNIT_ASSERT_EQUAL(store->revision(), revision);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/a/"), page[0].prefix);
    CPPUNIT_ASSERT_EQUAL(std::string("/b/"), page[1].prefix);
    page = store->loadRoutePage("/b/", 2);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), page.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/d/"), page[0].prefix);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), page[0].targets.size());
  }

  /// Pages follow the bytes of the prefixes (SQLite's order), whatever the database's collation,
  /// and each route brings its own targets only.
  void testRoutePagesInByteOrder() {
    Backend b;
    auto store = b.open();
    b.sortPrefixesByLanguage();
    const std::map<std::string, std::string> targets{{"/ab/", "http://ab:1"},
                                                     {"/a/", "http://a:1"},
                                                     {"/a-b/", "http://a-b:1"},
                                                     {"/B/", "http://b:1"}};
    for (const auto& [prefix, url] : targets) store->createRoute(spec(prefix, {url}));
    std::vector<std::string> seen;
    std::string after;
    for (auto page = store->loadRoutePage(after, 3); !page.empty();
         page = store->loadRoutePage(after, 3)) {
      for (const auto& route : page) {
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), route.targets.size());
        CPPUNIT_ASSERT_EQUAL(targets.at(route.prefix), route.targets.front().url);
        seen.push_back(route.prefix);
      }
      after = page.back().prefix;
    }
    CPPUNIT_ASSERT((std::vector<std::string>{"/B/", "/a-b/", "/a/", "/ab/"}) == seen);
  }

  void testHistoryPagesAndLimit() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/r/", {"http://a:1", "http://b:1", "http://c:1"}));  // 4 rows
    store->addTargets("/r/", {"http://d:1"});
    ChangeQuery q;
    q.limit = 2;
    auto page = store->changes(q);
    // The 4 rows of revision 2 come whole: a page never splits a revision.
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), page.changes.size());
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), page.nextSince);
    q.since = page.nextSince;
    page = store->changes(q);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), page.changes.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://d:1"), page.changes[0].target);
    q.since = 0;
    q.limit = 100;
    q.target = "http://d:1";
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), store->changes(q).changes.size());

    store->setHistoryLimit(3);
    store->addTargets("/r/", {"http://e:1"});
    q.target.clear();
    page = store->changes(q);
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), page.changes.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://e:1"), page.changes.back().target);
  }

  void testSchemaVersions() {
    Backend b;
    { auto store = b.open(); }
    b.setSchemaVersion(99);
    for (auto access : {Store::Access::ReadWrite, Store::Access::ReadOnly}) {
      try {
        b.open(access);
        CPPUNIT_FAIL("opened a store newer than this binary");
      } catch (const portico::StoreError& e) {
        CPPUNIT_ASSERT_MESSAGE(
            e.what(), std::string(e.what()).find("newer than this binary") != std::string::npos);
      }
    }
    CPPUNIT_ASSERT_THROW(portico::checkStoreSchema(b.location()), portico::StoreError);
  }

  void testReadOnlyNeverWrites() {
    Backend b;
    // Nothing there yet: the proxy waits for the sidecar to create it.
    CPPUNIT_ASSERT_THROW(b.open(Store::Access::ReadOnly), portico::StoreNotReady);
    auto writer = b.open();
    writer->createRoute(spec("/r/", {"http://a:1"}));
    auto reader = b.open(Store::Access::ReadOnly);
    CPPUNIT_ASSERT_EQUAL(writer->revision(), reader->revision());
    CPPUNIT_ASSERT_THROW(reader->createRoute(spec("/x/")), portico::StoreError);
    CPPUNIT_ASSERT_THROW(reader->renewLeases("p", 1s), portico::StoreError);
    writer->addTargets("/r/", {"http://b:1"});
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), reader->loadRoutes().front().targets.size());
  }

  void testTwoWritersOneRoute() {
    // Two sidecars (two store objects) create one route at once: one wins, one gets Conflict.
    Backend b;
    auto first = b.open();
    auto second = b.open();
    for (int round = 0; round < 5; ++round) {
      const std::string prefix = "/race" + std::to_string(round) + "/";
      std::atomic<int> created{0};
      std::atomic<int> conflicts{0};
      auto attempt = [&](Store& s) {
        try {
          s.createRoute(spec(prefix, {"http://a:1"}));
          ++created;
        } catch (const portico::Conflict&) {
          ++conflicts;
        }
      };
      std::thread a([&] { attempt(*first); });
      std::thread c([&] { attempt(*second); });
      a.join();
      c.join();
      CPPUNIT_ASSERT_EQUAL(1, created.load());
      CPPUNIT_ASSERT_EQUAL(1, conflicts.load());
    }
    // Each create bumped the revision once, in order.
    CPPUNIT_ASSERT_EQUAL(std::int64_t(6), first->revision());
  }

  void testLeasesSpreadAndExpire() {
    Backend b;
    auto store = b.open();
    store->createRoute(
        spec("/r/", {"http://a:1", "http://b:1", "http://c:1", "http://d:1", "http://e:1"}));
    // Alone, A takes every target.
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), store->renewLeases("A", 60s).size());
    // B arrives: its share is ceil(5/2) = 3 but nothing is free yet; A gives up the excess at
    // its next renewal and B takes it at its own.
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), store->renewLeases("B", 60s).size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), store->renewLeases("A", 60s).size());
    auto bHeld = store->renewLeases("B", 60s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), bHeld.size());
    auto aHeld = store->renewLeases("A", 60s);
    std::set<std::int64_t> all(aHeld.begin(), aHeld.end());
    all.insert(bHeld.begin(), bHeld.end());
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), all.size());  // each target exactly once
    const auto route = store->findRoute("/r/");
    for (const auto& t : route->targets) {
      const bool byA = std::count(aHeld.begin(), aHeld.end(), t.id) > 0;
      CPPUNIT_ASSERT_EQUAL(std::string(byA ? "A" : "B"), t.checkedBy);
    }
    // A clean shutdown gives its targets up at once.
    store->releaseLeases("A");
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), store->renewLeases("B", 60s).size());
    // A sidecar that stops renewing loses its leases after the timeout.
    store->releaseLeases("B");
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), store->renewLeases("C", 200ms).size());
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), store->renewLeases("D", 60s).size());
    const bool takenOver = portico::test::waitUntil(
        [&] { return store->renewLeases("D", 60s).size() == 5; }, 5s, 50ms);
    CPPUNIT_ASSERT(takenOver);
    // Disabled targets are nobody's.
    TargetUpdate off;
    off.state = ServingState::Disabled;
    store->updateTarget("/r/", "http://a:1", off);
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), store->renewLeases("D", 60s).size());
    CPPUNIT_ASSERT_EQUAL(std::string(), store->findRoute("/r/")->targets.front().checkedBy);
  }

  void testClaimTakesOnlyFreeLeases() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/r/", {"http://a:1", "http://b:1", "http://c:1"}));
    const auto a = targetId(*store, "/r/", "http://a:1");
    const auto bId = targetId(*store, "/r/", "http://b:1");
    const auto c = targetId(*store, "/r/", "http://c:1");
    // A claims a and b (twice named, one lease); B then finds them taken and claims c only.
    const auto mine = store->claimLeases("A", {bId, a, a}, 60s);
    CPPUNIT_ASSERT(mine == (std::vector<std::int64_t>{std::min(a, bId), std::max(a, bId)}));
    CPPUNIT_ASSERT(store->claimLeases("B", {a, bId, c}, 60s) == std::vector<std::int64_t>{c});
    CPPUNIT_ASSERT_EQUAL(std::string("A"), store->findRoute("/r/")->targets[0].checkedBy);
    CPPUNIT_ASSERT_EQUAL(std::string("B"), store->findRoute("/r/")->targets[2].checkedBy);
    // A claim does not renew: B's renewal keeps c and takes nothing of A's.
    const auto bHeld = store->renewLeases("B", 60s);
    CPPUNIT_ASSERT(std::count(bHeld.begin(), bHeld.end(), c) == 1);
    CPPUNIT_ASSERT(std::count(bHeld.begin(), bHeld.end(), a) == 0);
    // An expired lease is free again; a disabled target or an unknown id is nobody's.
    store->releaseLeases("B");
    CPPUNIT_ASSERT(store->claimLeases("C", {c}, 200ms) == std::vector<std::int64_t>{c});
    const bool expired = portico::test::waitUntil(
        [&] { return store->claimLeases("D", {c}, 60s) == std::vector<std::int64_t>{c}; }, 5s,
        50ms);
    CPPUNIT_ASSERT(expired);
    store->releaseLeases("A");
    TargetUpdate off;
    off.state = ServingState::Disabled;
    store->updateTarget("/r/", "http://a:1", off);
    CPPUNIT_ASSERT(store->claimLeases("D", {a, c + 1000}, 60s).empty());
    // A read-only store (the proxy's) claims nothing.
    CPPUNIT_ASSERT_THROW(b.open(Store::Access::ReadOnly)->claimLeases("E", {bId}, 1s),
                         portico::StoreError);
  }

  void testRenewalInSlices() {
    Backend b;
    auto store = b.open();
    auto other = b.open();
    // Two rows a transaction: every step of a renewal takes several.
    for (auto* s : {store.get(), other.get()}) {
      auto* writer = dynamic_cast<portico::StoreWriter*>(s);
      CPPUNIT_ASSERT(writer != nullptr);
      writer->setLeaseSlice(2);
    }
    std::vector<portico::TargetSpec> seven;
    for (int i = 0; i < 7; ++i) seven.emplace_back("http://t" + std::to_string(i) + ":1");
    store->createRoute(spec("/r/", seven));
    // Taken in slices, then every slice extended: none is left to expire with the short lease.
    CPPUNIT_ASSERT_EQUAL(std::size_t(7), store->renewLeases("A", 300ms).size());
    const auto aAll = store->renewLeases("A", 60s);
    CPPUNIT_ASSERT_EQUAL(std::size_t(7), aAll.size());
    CPPUNIT_ASSERT(std::is_sorted(aAll.begin(), aAll.end()));
    std::this_thread::sleep_for(500ms);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), other->renewLeases("B", 60s).size());
    // A gives up the excess over ceil(7 / 2) = 4, its highest ids, and B takes them.
    const auto aHeld = store->renewLeases("A", 60s);
    CPPUNIT_ASSERT(aHeld == std::vector<std::int64_t>(aAll.begin(), aAll.begin() + 4));
    const auto bHeld = other->renewLeases("B", 60s);
    CPPUNIT_ASSERT(bHeld == std::vector<std::int64_t>(aAll.begin() + 4, aAll.end()));
    CPPUNIT_ASSERT(store->renewLeases("A", 60s) == aHeld);
    const auto route = store->findRoute("/r/");
    for (const auto& t : route->targets) {
      const bool byA = std::count(aHeld.begin(), aHeld.end(), t.id) > 0;
      CPPUNIT_ASSERT_EQUAL(std::string(byA ? "A" : "B"), t.checkedBy);
    }
  }

  void testVerdictOnlyByLeaseHolder() {
    Backend b;
    auto store = b.open();
    store->createRoute(spec("/r/", {"http://a:1"}));
    const auto id = targetId(*store, "/r/", "http://a:1");
    CPPUNIT_ASSERT(!store->recordVerdict(id, false, "x", "A"));  // nobody holds it
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), store->renewLeases("A", 60s).size());
    CPPUNIT_ASSERT(!store->recordVerdict(id, false, "x", "B"));
    CPPUNIT_ASSERT(store->findRoute("/r/")->targets.front().healthy);
    CPPUNIT_ASSERT(store->recordVerdict(id, false, "x", "A"));
    ChangeQuery q;
    q.target = "http://a:1";
    CPPUNIT_ASSERT_EQUAL(std::string("A"), store->changes(q).changes.back().client);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreConformanceTest);
