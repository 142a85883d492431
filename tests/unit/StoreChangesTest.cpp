#include <cppunit/extensions/HelperMacros.h>

#include <random>
#include <sstream>

#include "base/Errors.h"
#include "routing/RouteTable.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using portico::RouteChanges;
using portico::RouteSpec;
using portico::RouteTable;
using portico::SqliteStore;
using portico::TargetUpdate;
using portico::test::TempDir;

namespace {

RouteSpec spec(const std::string& prefix, std::vector<portico::TargetSpec> targets = {}) {
  RouteSpec s;
  s.prefix = prefix;
  s.targets = std::move(targets);
  return s;
}

std::string prefixes(const std::vector<portico::RouteRecord>& routes) {
  std::string out;
  for (const auto& r : routes) out += r.prefix + " ";
  return out;
}

/// A table as requests see it: routes, slots, targets with verdicts, weights and states.
std::string describe(const RouteTable& table) {
  std::ostringstream out;
  for (const auto& r : table.routes()) {
    out << r->prefix << "#" << r->slot << ":";
    for (std::size_t i = 0; i < r->targets.size(); ++i)
      out << " " << r->targets[i]->url.canonical << (r->standing[i].healthy ? "+" : "-")
          << r->standing[i].weight << "/" << static_cast<int>(r->standing[i].state);
    out << " |" << r->candidates().size() << "\n";
  }
  return out.str();
}

}  // namespace

/// Store::routesChangedSince (what the proxy and the health checker reload) and
/// Store::loadRoutePage (the paged lists), on a real SQLite store.
class StoreChangesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StoreChangesTest);
  CPPUNIT_TEST(testTouchedAndRemovedRoutes);
  CPPUNIT_TEST(testTrimmedHistoryMeansEverything);
  CPPUNIT_TEST(testPatchedTableFollowsTheStore);
  CPPUNIT_TEST(testRoutePages);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTouchedAndRemovedRoutes() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.createRoute(spec("/a/", {"http://a:1"}));
    store.createRoute(spec("/b/", {"http://b:1"}));
    store.createRoute(spec("/c/"));
    const auto since = store.revision();
    // Nothing since: nothing to read.
    auto none = store.routesChangedSince(since);
    CPPUNIT_ASSERT(none.complete);
    CPPUNIT_ASSERT_EQUAL(since, none.revision);
    CPPUNIT_ASSERT(none.routes.empty() && none.removed.empty());

    store.addTargets("/a/", {"http://a:2"});
    store.deleteRoute("/c/");
    store.createRoute(spec("/d/", {"http://d:1"}));
    const auto b = store.findRoute("/b/");
    store.recordVerdict(b->targets.at(0).id, false, "connect: Connection refused");
    const auto changes = store.routesChangedSince(since);
    CPPUNIT_ASSERT(changes.complete);
    CPPUNIT_ASSERT_EQUAL(store.revision(), changes.revision);
    CPPUNIT_ASSERT_EQUAL(std::string("/a/ /b/ /d/ "), prefixes(changes.routes));
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), changes.routes[0].targets.size());
    CPPUNIT_ASSERT(!changes.routes[1].targets.at(0).healthy);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), changes.removed.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/c/"), changes.removed[0].prefix);

    // A follower that never loaded (or a store it did not come from) reads everything.
    const auto first = store.routesChangedSince(-1);
    CPPUNIT_ASSERT(!first.complete);
    CPPUNIT_ASSERT_EQUAL(std::string("/a/ /b/ /d/ "), prefixes(first.routes));
    const auto ahead = store.routesChangedSince(store.revision() + 5);
    CPPUNIT_ASSERT(!ahead.complete);
  }

  void testTrimmedHistoryMeansEverything() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.setHistoryLimit(3);
    store.createRoute(spec("/a/", {"http://a:1"}));
    const auto since = store.revision();
    store.createRoute(spec("/b/", {"http://b:1", "http://b:2"}));  // 3 rows
    store.createRoute(spec("/c/", {"http://c:1"}));                // 2 rows: the oldest go
    const auto changes = store.routesChangedSince(since);
    CPPUNIT_ASSERT(!changes.complete);
    CPPUNIT_ASSERT_EQUAL(std::string("/a/ /b/ /c/ "), prefixes(changes.routes));
    // Recent enough: still complete.
    const auto recent = store.routesChangedSince(store.revision() - 1);
    CPPUNIT_ASSERT(recent.complete);
    CPPUNIT_ASSERT_EQUAL(std::string("/c/ "), prefixes(recent.routes));
  }

  /// A table patched from each delta the store gives stays equal to one built from the whole
  /// store, over random API writes and health verdicts, with a history short enough that some
  /// reloads find a gap and read everything.
  void testPatchedTableFollowsTheStore() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    store.setHistoryLimit(5);
    std::mt19937 random(7);
    auto table = RouteTable::build({}, nullptr, -1);
    std::int64_t held = -1;
    int patched = 0, full = 0;
    for (int step = 0; step < 400; ++step) {
      const std::string prefix = "/r" + std::to_string(random() % 8) + "/";
      const std::string url = "http://h" + std::to_string(random() % 5) + ":80";
      try {
        switch (random() % 6) {
          case 0:
            store.createRoute(spec(prefix, {url}));
            break;
          case 1:
            store.deleteRoute(prefix);
            break;
          case 2:
            store.addTargets(prefix, {url});
            break;
          case 3:
            store.removeTargets(prefix, {url});
            break;
          case 4: {
            const auto r = store.findRoute(prefix);
            if (r && !r->targets.empty())
              store.recordVerdict(r->targets.front().id, random() % 2 == 0, "down");
            break;
          }
          default: {
            TargetUpdate update;
            update.weight = static_cast<int>(random() % 3) * 100;
            store.updateTarget(prefix, url, update);
            break;
          }
        }
      } catch (const portico::NotFound&) {
      } catch (const portico::Conflict&) {
      }
      if (random() % 3 != 0) continue;  // reload every few writes
      const auto changes = store.routesChangedSince(held);
      if (changes.complete) {
        table = RouteTable::patch(*table, changes.routes, changes.removed, changes.revision);
        ++patched;
      } else {
        table = RouteTable::build(changes.routes, table.get(), changes.revision);
        ++full;
      }
      held = changes.revision;
      const auto whole = RouteTable::build(store.loadRoutes(), table.get(), held);
      CPPUNIT_ASSERT_EQUAL_MESSAGE("step " + std::to_string(step), describe(*whole),
                                   describe(*table));
    }
    CPPUNIT_ASSERT(patched > 20);
    CPPUNIT_ASSERT(full > 2);
  }

  void testRoutePages() {
    TempDir dir;
    SqliteStore store(dir.file("p.db"));
    for (const char* p : {"/d/", "/a/", "/c/", "/b/", "/e/"})
      store.createRoute(spec(p, {"http://x:1"}));
    std::int64_t revision = -1;
    auto page = store.loadRoutePage("", 2, &revision);
    CPPUNIT_ASSERT_EQUAL(std::string("/a/ /b/ "), prefixes(page));
    CPPUNIT_ASSERT_EQUAL(store.revision(), revision);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), page[0].targets.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/c/ /d/ "), prefixes(store.loadRoutePage("/b/", 2)));
    CPPUNIT_ASSERT_EQUAL(std::string("/e/ "), prefixes(store.loadRoutePage("/d/", 2)));
    CPPUNIT_ASSERT(store.loadRoutePage("/e/", 2).empty());
    // `after` need not be a stored prefix.
    CPPUNIT_ASSERT_EQUAL(std::string("/c/ /d/ /e/ "), prefixes(store.loadRoutePage("/bb/", 10)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreChangesTest);
