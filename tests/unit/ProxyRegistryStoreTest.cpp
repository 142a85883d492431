// The proxies table through the Store interface, built twice as the conformance suite is:
// against SqliteStore (a file; label unit) and PostgresStore (a server the test starts; e2e).

#include <cppunit/extensions/HelperMacros.h>

#include "base/Errors.h"
#include "store/factory/StoreFactory.h"
#include "support/StoreBackend.h"
#ifndef PORTICO_STORE_POSTGRES
#include "support/ExternalWriteLock.h"
#endif

using portico::ProxyReport;
using portico::RouteSpec;
using portico::Store;

namespace {

using Backend = portico::test::StoreBackend;

ProxyReport report(const std::string& id, std::int64_t revision) {
  ProxyReport r;
  r.id = id;
  r.addresses = {"127.0.0.1:8080", "127.0.0.1:8443"};
  r.version = "1.2.3";
  r.startedAtMs = 1'700'000'000'123;
  r.revision = revision;
  r.heartbeatMs = 500;
  return r;
}

RouteSpec route(const std::string& prefix) {
  RouteSpec s;
  s.prefix = prefix;
  return s;
}

}  // namespace

class ProxyRegistryStoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyRegistryStoreTest);
  CPPUNIT_TEST(testEmptyRoster);
  CPPUNIT_TEST(testReadOnlyStoreWritesItsRow);
  CPPUNIT_TEST(testAppliedAtMovesWithTheRevisionOnly);
  CPPUNIT_TEST(testBehindSinceTheFirstChangeItLacks);
  CPPUNIT_TEST(testRowsUnseenForForgetAfterAreDeleted);
  CPPUNIT_TEST(testReportIsNoChange);
  CPPUNIT_TEST(testLeavingIsSeenThreeBeatsAgo);
#ifndef PORTICO_STORE_POSTGRES
  CPPUNIT_TEST(testBusyStoreGivesUpQuickly);
#endif
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEmptyRoster() {
    Backend b;
    const auto roster = b.open()->proxies();
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), roster.revision);
    CPPUNIT_ASSERT(roster.proxies.empty());
    CPPUNIT_ASSERT(roster.nowMs > 1'700'000'000'000);
  }

  void testReadOnlyStoreWritesItsRow() {
    Backend b;
    auto sidecar = b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    proxy->reportProxy(report("p1", 1));
    // Every other write stays refused on a ReadOnly store.
    CPPUNIT_ASSERT_THROW(proxy->createRoute(route("/a/")), portico::StoreError);
    const auto roster = sidecar->proxies();
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), roster.proxies.size());
    const auto& p = roster.proxies[0];
    CPPUNIT_ASSERT_EQUAL(std::string("p1"), p.id);
    CPPUNIT_ASSERT(p.addresses == report("p1", 1).addresses);
    CPPUNIT_ASSERT_EQUAL(std::string("1.2.3"), p.version);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1'700'000'000'123), p.startedAtMs);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), p.revision);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(500), p.heartbeatMs);
    CPPUNIT_ASSERT_EQUAL(p.appliedAtMs, p.lastSeenMs);
    CPPUNIT_ASSERT(p.lastSeenMs <= roster.nowMs && p.lastSeenMs > roster.nowMs - 60000);
    CPPUNIT_ASSERT(!p.behindSinceMs);
  }

  void testAppliedAtMovesWithTheRevisionOnly() {
    Backend b;
    auto sidecar = b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    proxy->reportProxy(report("p1", 1));
    b.sql("UPDATE proxies SET applied_at = applied_at - 10000, last_seen = last_seen - 10000");
    const auto before = sidecar->proxies().proxies.at(0);
    proxy->reportProxy(report("p1", 1));  // a beat: seen now, applied as before
    const auto beat = sidecar->proxies().proxies.at(0);
    CPPUNIT_ASSERT_EQUAL(before.appliedAtMs, beat.appliedAtMs);
    CPPUNIT_ASSERT(beat.lastSeenMs >= before.lastSeenMs + 10000);
    sidecar->createRoute(route("/a/"));
    proxy->reportProxy(report("p1", 2));  // applied revision 2 now
    const auto applied = sidecar->proxies().proxies.at(0);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(2), applied.revision);
    CPPUNIT_ASSERT(applied.appliedAtMs >= beat.lastSeenMs);
    CPPUNIT_ASSERT_EQUAL(applied.lastSeenMs, applied.appliedAtMs);
  }

  void testBehindSinceTheFirstChangeItLacks() {
    Backend b;
    auto sidecar = b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    proxy->reportProxy(report("p1", 1));
    proxy->reportProxy(report("p2", 1));
    sidecar->createRoute(route("/a/"));  // revision 2
    sidecar->createRoute(route("/b/"));  // revision 3
    proxy->reportProxy(report("p2", 3));
    b.sql("UPDATE changes SET time = '2024-05-01T12:00:00.123Z' WHERE revision = 2");
    const auto roster = sidecar->proxies();
    CPPUNIT_ASSERT_EQUAL(std::int64_t(3), roster.revision);
    CPPUNIT_ASSERT_EQUAL(std::string("p1"), roster.proxies.at(0).id);
    const auto since = roster.proxies.at(0).behindSinceMs;
    CPPUNIT_ASSERT(since);
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1714564800123), *since);  // revision 2's time
    CPPUNIT_ASSERT(!roster.proxies.at(1).behindSinceMs);
    // A history trimmed past its revision cannot say: none.
    b.sql("DELETE FROM changes");
    CPPUNIT_ASSERT(!sidecar->proxies().proxies.at(0).behindSinceMs);
  }

  void testRowsUnseenForForgetAfterAreDeleted() {
    Backend b;
    auto sidecar = b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    proxy->reportProxy(report("old", 1));
    proxy->reportProxy(report("recent", 1));
    b.sql("UPDATE proxies SET last_seen = last_seen - 100000 WHERE id = 'old'");
    b.sql("UPDATE proxies SET last_seen = last_seen - 20000 WHERE id = 'recent'");
    auto r = report("me", 1);
    r.forgetAfterMs = 50000;
    proxy->reportProxy(r);
    const auto roster = sidecar->proxies();
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), roster.proxies.size());
    CPPUNIT_ASSERT_EQUAL(std::string("me"), roster.proxies[0].id);
    CPPUNIT_ASSERT_EQUAL(std::string("recent"), roster.proxies[1].id);
  }

  void testReportIsNoChange() {
    // The proxy's row is no change for the proxies to follow: no revision, no history.
    Backend b;
    auto sidecar = b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    proxy->reportProxy(report("p1", 1));
    proxy->reportProxy(report("p1", 1));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(1), sidecar->revision());
    CPPUNIT_ASSERT(sidecar->changes({}).changes.empty());
  }

  void testLeavingIsSeenThreeBeatsAgo() {
    Backend b;
    auto sidecar = b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    auto r = report("p1", 1);
    r.leaving = true;
    proxy->reportProxy(r);
    const auto roster = sidecar->proxies();
    const auto& p = roster.proxies.at(0);
    // Past three beats of 500 ms: stale by the sidecar's rules at once.
    CPPUNIT_ASSERT(roster.nowMs - p.lastSeenMs > 1500);
    CPPUNIT_ASSERT(roster.nowMs - p.lastSeenMs < 60000);
    CPPUNIT_ASSERT(p.appliedAtMs >= p.lastSeenMs);
  }

#ifndef PORTICO_STORE_POSTGRES
  void testBusyStoreGivesUpQuickly() {
    Backend b;
    b.open();
    auto proxy = b.open(Store::Access::ReadOnly);
    portico::test::ExternalWriteLock lock(b.location().path);
    const auto start = std::chrono::steady_clock::now();
    CPPUNIT_ASSERT_THROW(proxy->reportProxy(report("p1", 1)), portico::StoreBusy);
    // Far below the 5 s every other write waits for the lock.
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
#endif
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyRegistryStoreTest);
