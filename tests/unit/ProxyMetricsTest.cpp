#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "observe/ProxyMetrics.h"
#include "routing/RouteTable.h"
#include "routing/TableGauges.h"

using portico::ProxyMetrics;
using portico::RouteRecord;
using portico::RouteTable;
using portico::TargetRecord;

namespace {

RouteRecord route(const std::string& prefix, std::vector<std::pair<std::string, bool>> targets) {
  RouteRecord r;
  r.prefix = prefix;
  std::int64_t id = 1;
  for (auto& [url, healthy] : targets) {
    TargetRecord t;
    t.id = id++;
    t.url = url;
    t.healthy = healthy;
    r.targets.push_back(t);
  }
  return r;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

/// ProxyMetrics as the data plane drives it: events on handles kept in the route table, state
/// read from the table at scrape time, handles carried over when the table is rebuilt.
class ProxyMetricsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyMetricsTest);
  CPPUNIT_TEST(testRequestsByRouteTargetAndCode);
  CPPUNIT_TEST(testUpstreamEventsAndConnections);
  CPPUNIT_TEST(testTargetStateFromTheTable);
  CPPUNIT_TEST(testReloadsAndReadiness);
  CPPUNIT_TEST(testLoopsCountOnTheirOwnShards);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRequestsByRouteTargetAndCode() {
    ProxyMetrics m(2);
    auto table = RouteTable::build({route("/api/", {{"http://a:1", true}, {"http://b:2", true}})},
                                   nullptr, 1, nullptr, 0, &m);
    const auto& r = *table->routes()[0];
    auto& shard = m.shard(0);
    m.requestDone(shard, r.metrics.get(), r.targets[0]->metrics.get(), 200, 0.004);
    m.requestDone(m.shard(1), r.metrics.get(), r.targets[0]->metrics.get(), 200, 0.2);
    m.requestDone(shard, r.metrics.get(), r.targets[1]->metrics.get(), 502, 0.01);
    m.requestDone(shard, r.metrics.get(), nullptr, 503, 0.0001);  // no healthy target
    m.requestDone(shard, nullptr, nullptr, 404, 0.0001);          // no route
    const std::string text = m.scrape();
    CPPUNIT_ASSERT_MESSAGE(
        text,
        has(text, "portico_requests_total{route=\"/api/\",target=\"http://a:1\",code=\"200\"} 2"));
    CPPUNIT_ASSERT(
        has(text, "portico_requests_total{route=\"/api/\",target=\"http://b:2\",code=\"502\"} 1"));
    CPPUNIT_ASSERT(
        has(text, "portico_requests_total{route=\"/api/\",target=\"none\",code=\"503\"} 1"));
    CPPUNIT_ASSERT(
        has(text, "portico_requests_total{route=\"none\",target=\"none\",code=\"404\"} 1"));
    CPPUNIT_ASSERT(has(text, "portico_request_duration_seconds_count{route=\"/api/\"} 4"));
    CPPUNIT_ASSERT(
        has(text, "portico_request_duration_seconds_bucket{route=\"/api/\",le=\"0.005\"} 2"));
    CPPUNIT_ASSERT(
        has(text, "portico_request_duration_seconds_bucket{route=\"/api/\",le=\"0.25\"} 4"));

    // A rebuilt table (a target added) keeps counting into the same series.
    auto next = RouteTable::build(
        {route("/api/", {{"http://a:1", true}, {"http://b:2", true}, {"http://c:3", true}})},
        table.get(), 2, nullptr, 0, &m);
    const auto& r2 = *next->routes()[0];
    CPPUNIT_ASSERT(r2.metrics == r.metrics);
    m.requestDone(shard, r2.metrics.get(), r2.targets[0]->metrics.get(), 200, 0.001);
    CPPUNIT_ASSERT(
        has(m.scrape(),
            "portico_requests_total{route=\"/api/\",target=\"http://a:1\",code=\"200\"} 3"));
  }

  void testUpstreamEventsAndConnections() {
    ProxyMetrics m(1);
    auto table =
        RouteTable::build({route("/api/", {{"http://a:1", true}})}, nullptr, 1, nullptr, 0, &m);
    const auto& r = *table->routes()[0];
    auto& shard = m.shard(0);
    m.connectFailed(shard, *r.targets[0]->metrics);
    m.connectFailed(shard, *r.targets[0]->metrics);
    m.upstreamTimedOut(shard, *r.targets[0]->metrics);
    m.retried(shard, *r.metrics, ProxyMetrics::kStaleConnection);
    m.clientConnectionOpened(shard);
    m.clientConnectionOpened(shard);
    m.clientConnectionClosed(shard);
    m.http2StreamRefused(shard, ProxyMetrics::StreamRefusal::Concurrency);
    m.http2StreamRefused(shard, ProxyMetrics::StreamRefusal::ResetBeforeStart);
    m.http2StreamRefused(shard, ProxyMetrics::StreamRefusal::ResetBeforeStart);
    const std::string text = m.scrape();
    CPPUNIT_ASSERT(has(
        text, "portico_upstream_connect_failures_total{route=\"/api/\",target=\"http://a:1\"} 2"));
    CPPUNIT_ASSERT(
        has(text, "portico_upstream_timeouts_total{route=\"/api/\",target=\"http://a:1\"} 1"));
    CPPUNIT_ASSERT(
        has(text, "portico_upstream_retries_total{route=\"/api/\",reason=\"stale-connection\"} 1"));
    CPPUNIT_ASSERT(has(text, "portico_client_connections 1"));
    CPPUNIT_ASSERT(has(text, "portico_http2_streams_refused_total{reason=\"concurrency\"} 1"));
    CPPUNIT_ASSERT(
        has(text, "portico_http2_streams_refused_total{reason=\"reset_before_start\"} 2"));
  }

  void testTargetStateFromTheTable() {
    ProxyMetrics m(1);
    auto table = RouteTable::build({route("/api/", {{"http://a:1", true}, {"http://b:2", false}}),
                                    route("/web/", {{"http://a:1", true}})},
                                   nullptr, 7, nullptr, 0, &m);
    m.watch(portico::tableView([&] { return table; }));
    const auto& r = *table->routes()[0];
    r.targets[0]->inFlight = 3;
    table->routes()[1]->targets[0]->inFlight = 2;
    r.targets[1]->avoidUntilMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count() +
                                 60000;
    const std::string text = m.scrape();
    CPPUNIT_ASSERT_MESSAGE(
        text, has(text, "portico_target_healthy{route=\"/api/\",target=\"http://a:1\"} 1"));
    CPPUNIT_ASSERT(has(text, "portico_target_healthy{route=\"/api/\",target=\"http://b:2\"} 0"));
    CPPUNIT_ASSERT(
        has(text, "portico_target_in_rotation{route=\"/api/\",target=\"http://a:1\"} 1"));
    CPPUNIT_ASSERT(
        has(text, "portico_target_in_rotation{route=\"/api/\",target=\"http://b:2\"} 0"));
    CPPUNIT_ASSERT(has(text, "portico_target_weight{route=\"/api/\",target=\"http://a:1\"} 100"));
    CPPUNIT_ASSERT(
        has(text, "portico_target_in_cooldown{route=\"/api/\",target=\"http://b:2\"} 1"));
    CPPUNIT_ASSERT(
        has(text, "portico_target_in_cooldown{route=\"/api/\",target=\"http://a:1\"} 0"));
    // One URL on two routes: its connections are summed under one target label.
    CPPUNIT_ASSERT(
        has(text, "portico_upstream_connections{target=\"http://a:1\",state=\"busy\"} 5"));
    CPPUNIT_ASSERT(
        has(text, "portico_upstream_connections{target=\"http://a:1\",state=\"idle\"} 0"));
    CPPUNIT_ASSERT(has(text, "# TYPE process_cpu_seconds_total counter"));
  }

  void testReloadsAndReadiness() {
    ProxyMetrics m(1);
    auto table = std::make_shared<const RouteTable>();
    m.watch(portico::tableView([&] { return table; }));
    CPPUNIT_ASSERT(!m.ready());
    CPPUNIT_ASSERT(has(m.scrape(), "portico_route_table_revision -1"));
    CPPUNIT_ASSERT(has(m.scrape(), "portico_route_table_last_reload_timestamp_seconds 0"));
    m.storeReadFailed();
    table = RouteTable::build({}, nullptr, 12, nullptr, 0, &m);
    m.tableLoaded(12);
    CPPUNIT_ASSERT(m.ready());
    const std::string text = m.scrape();
    CPPUNIT_ASSERT(has(text, "portico_route_table_revision 12"));
    CPPUNIT_ASSERT(has(text, "portico_route_table_reloads_total 1"));
    CPPUNIT_ASSERT(has(text, "portico_store_read_errors_total 1"));
    CPPUNIT_ASSERT(!has(text, "portico_route_table_last_reload_timestamp_seconds 0"));
  }

  void testLoopsCountOnTheirOwnShards() {
    // As the event-loop core will: each loop resolves its shard once and counts with plain adds.
    constexpr int kLoops = 4;
    constexpr int kRequests = 50000;
    ProxyMetrics m(kLoops);
    auto table =
        RouteTable::build({route("/api/", {{"http://a:1", true}})}, nullptr, 1, nullptr, 0, &m);
    const auto& r = *table->routes()[0];
    std::vector<std::thread> loops;
    for (int loop = 0; loop < kLoops; ++loop) {
      loops.emplace_back([&, loop] {
        m.bindLoop(static_cast<std::size_t>(loop));
        auto& shard = m.threadShard();
        CPPUNIT_ASSERT(&shard == &m.shard(static_cast<std::size_t>(loop)));
        m.clientConnectionOpened(shard);
        for (int i = 0; i < kRequests; ++i)
          m.requestDone(shard, r.metrics.get(), r.targets[0]->metrics.get(), 200 + i % 2, 0.001);
        m.clientConnectionClosed(shard);
      });
    }
    for (auto& t : loops) t.join();
    const std::string text = m.scrape();
    CPPUNIT_ASSERT(
        has(text, "portico_requests_total{route=\"/api/\",target=\"http://a:1\",code=\"200\"} " +
                      std::to_string(kLoops * kRequests / 2)));
    CPPUNIT_ASSERT(
        has(text, "portico_requests_total{route=\"/api/\",target=\"http://a:1\",code=\"201\"} " +
                      std::to_string(kLoops * kRequests / 2)));
    CPPUNIT_ASSERT(has(text, "portico_client_connections 0"));
    // A thread without a loop counts on a shared shard, never on a loop's.
    auto& other = m.threadShard();
    for (int loop = 0; loop < kLoops; ++loop)
      CPPUNIT_ASSERT(&other != &m.shard(static_cast<std::size_t>(loop)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyMetricsTest);
