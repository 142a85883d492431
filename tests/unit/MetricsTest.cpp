#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "metrics/Exposition.h"
#include "metrics/ProcessMetrics.h"
#include "metrics/Registry.h"
#include "support/TestSupport.h"

using portico::metrics::Exposition;
using portico::metrics::ProcessMetrics;
using portico::metrics::Registry;
using portico::metrics::ShardWriters;

/// The metrics library: exposition text against golden tables, and counts summed over shards.
class MetricsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MetricsTest);
  CPPUNIT_TEST(testValueFormatting);
  CPPUNIT_TEST(testEscaping);
  CPPUNIT_TEST(testCounterAndGaugeExposition);
  CPPUNIT_TEST(testHistogramExposition);
  CPPUNIT_TEST(testShardsAreSummed);
  CPPUNIT_TEST(testConcurrentWritersLoseNothing);
  CPPUNIT_TEST(testSeriesCreatedWhileCounting);
  CPPUNIT_TEST(testRejectsBadDefinitions);
  CPPUNIT_TEST(testCollectorsFollowFamilies);
  CPPUNIT_TEST(testProcessMetricsFromProc);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testValueFormatting() {
    const struct {
      double value;
      const char* text;
    } table[] = {
        {0, "0"},
        {1, "1"},
        {-3, "-3"},
        {1500000, "1500000"},
        {0.005, "0.005"},
        {0.1, "0.1"},
        {2.5, "2.5"},
        {1e-9, "1e-09"},
        {std::numeric_limits<double>::infinity(), "+Inf"},
        {-std::numeric_limits<double>::infinity(), "-Inf"},
        {std::nan(""), "NaN"},
    };
    for (const auto& row : table)
      CPPUNIT_ASSERT_EQUAL(std::string(row.text), Exposition::formatValue(row.value));
  }

  void testEscaping() {
    const struct {
      const char* in;
      const char* label;
      const char* help;
    } table[] = {
        {"plain /api/", "plain /api/", "plain /api/"},
        {"a\"b", "a\\\"b", "a\"b"},
        {"back\\slash", "back\\\\slash", "back\\\\slash"},
        {"new\nline", "new\\nline", "new\\nline"},
        {"caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9"},
    };
    for (const auto& row : table) {
      CPPUNIT_ASSERT_EQUAL(std::string(row.label), Exposition::escapeLabelValue(row.in));
      CPPUNIT_ASSERT_EQUAL(std::string(row.help), Exposition::escapeHelp(row.in));
    }
  }

  void testCounterAndGaugeExposition() {
    Registry r(2, ShardWriters::One);
    auto& requests = r.counter("demo_requests_total", "Requests.\nAll of them.", {"route", "code"});
    auto& open = r.gauge("demo_open", "Open things.");
    auto& revision = r.gauge("demo_revision", "Revision.");
    requests.with({"/api/", "200"}).add(r.shard(0), 3);
    requests.with({"/a\"b/", "502"}).add(r.shard(1));
    open.with().add(r.shard(0), 5);
    open.with().add(r.shard(1), -2);
    revision.with().set(42);
    const std::string expected =
        "# HELP demo_requests_total Requests.\\nAll of them.\n"
        "# TYPE demo_requests_total counter\n"
        "demo_requests_total{route=\"/a\\\"b/\",code=\"502\"} 1\n"
        "demo_requests_total{route=\"/api/\",code=\"200\"} 3\n"
        "# HELP demo_open Open things.\n"
        "# TYPE demo_open gauge\n"
        "demo_open 3\n"
        "# HELP demo_revision Revision.\n"
        "# TYPE demo_revision gauge\n"
        "demo_revision 42\n";
    CPPUNIT_ASSERT_EQUAL(expected, r.scrape());
  }

  void testHistogramExposition() {
    Registry r(3, ShardWriters::One);
    auto h = r.histogram("demo_duration_seconds", "Durations.", {"route"}, {0.1, 1}).with({"/x/"});
    h.observe(r.shard(0), 0.05);
    h.observe(r.shard(1), 0.1);  // le is inclusive
    h.observe(r.shard(2), 0.5);
    h.observe(r.shard(2), 7);
    const std::string expected =
        "# HELP demo_duration_seconds Durations.\n"
        "# TYPE demo_duration_seconds histogram\n"
        "demo_duration_seconds_bucket{route=\"/x/\",le=\"0.1\"} 2\n"
        "demo_duration_seconds_bucket{route=\"/x/\",le=\"1\"} 3\n"
        "demo_duration_seconds_bucket{route=\"/x/\",le=\"+Inf\"} 4\n"
        "demo_duration_seconds_sum{route=\"/x/\"} 7.65\n"
        "demo_duration_seconds_count{route=\"/x/\"} 4\n";
    CPPUNIT_ASSERT_EQUAL(expected, r.scrape());
  }

  void testShardsAreSummed() {
    Registry r(4, ShardWriters::One);
    auto c = r.counter("demo_total", "x").with();
    for (std::size_t s = 0; s < r.shardCount(); ++s) c.add(r.shard(s), s + 1);
    CPPUNIT_ASSERT_EQUAL(
        std::string("# HELP demo_total x\n# TYPE demo_total counter\ndemo_total 10\n"), r.scrape());
    // The same label values resolve to the same series.
    r.counter("demo2_total", "y", {"k"}).with({"v"}).add(r.shard(0));
    CPPUNIT_ASSERT(r.scrape().find("demo2_total{k=\"v\"} 1\n") != std::string::npos);
  }

  void testConcurrentWritersLoseNothing() {
    // One loop per shard (plain adds), and threads sharing shards (atomic adds): no count lost.
    constexpr int kThreads = 8;
    constexpr int kAdds = 200000;
    for (const auto writers : {ShardWriters::One, ShardWriters::Many}) {
      const std::size_t shards = writers == ShardWriters::One ? kThreads : 3;
      Registry r(shards, writers);
      auto c = r.counter("demo_total", "x").with();
      auto h = r.histogram("demo_seconds", "y", {}, {0.5}).with();
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          auto& shard = writers == ShardWriters::One ? r.shard(t) : r.threadShard();
          for (int i = 0; i < kAdds; ++i) {
            c.add(shard);
            h.observe(shard, 1.0);
          }
        });
      }
      for (auto& t : threads) t.join();
      const std::string text = r.scrape();
      const std::string total = std::to_string(kThreads * kAdds);
      CPPUNIT_ASSERT_MESSAGE(text, text.find("demo_total " + total + "\n") != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(text,
                             text.find("demo_seconds_sum " + total + "\n") != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(text,
                             text.find("demo_seconds_count " + total + "\n") != std::string::npos);
    }
  }

  void testSeriesCreatedWhileCounting() {
    // New series (past several chunks of cells) appear while another thread counts into an
    // older one: its count is intact and every new series reads its own value.
    Registry r(2, ShardWriters::One);
    auto& family = r.counter("demo_total", "x", {"n"});
    auto first = family.with({"first"});
    std::thread writer([&] {
      for (int i = 0; i < 300000; ++i) first.add(r.shard(0));
    });
    for (int i = 0; i < 3000; ++i) family.with({std::to_string(i)}).add(r.shard(1), 2);
    writer.join();
    const std::string text = r.scrape();
    CPPUNIT_ASSERT(text.find("demo_total{n=\"first\"} 300000\n") != std::string::npos);
    CPPUNIT_ASSERT(text.find("demo_total{n=\"2999\"} 2\n") != std::string::npos);
  }

  void testRejectsBadDefinitions() {
    Registry r(1, ShardWriters::One);
    r.counter("demo_total", "x", {"a"});
    CPPUNIT_ASSERT_THROW(r.gauge("demo_total", "again"), std::invalid_argument);
    CPPUNIT_ASSERT_THROW(r.counter("demo2_total", "x", {"a"}).with({}), std::invalid_argument);
    CPPUNIT_ASSERT_THROW(r.histogram("demo_seconds", "x", {}, {1, 0.5}), std::invalid_argument);
  }

  void testCollectorsFollowFamilies() {
    Registry r(1, ShardWriters::One);
    r.counter("demo_total", "x").with().add(r.shard(0));
    r.addCollector([](Exposition& out) {
      out.family("demo_state", "Computed at scrape.", "gauge");
      out.sample("demo_state", {{"target", "http://a:1"}}, 1.0);
    });
    CPPUNIT_ASSERT_EQUAL(
        std::string("# HELP demo_total x\n# TYPE demo_total counter\n"
                    "demo_total 1\n# HELP demo_state Computed at scrape.\n"
                    "# TYPE demo_state gauge\ndemo_state{target=\"http://a:1\"} 1\n"),
        r.scrape());
  }

  void testProcessMetricsFromProc() {
    portico::test::TempDir dir;
    const std::string self = dir.file("self");
    std::filesystem::create_directories(self + "/fd");
    // pid (comm with ") " inside) state ... utime=250 stime=150 ... starttime=1000 vsize rss=10
    std::string stat = "1234 (odd ) name) S";
    for (int field = 4; field <= 52; ++field) {
      std::string v = "0";
      if (field == 14) v = "250";
      if (field == 15) v = "150";
      if (field == 22) v = "1000";
      if (field == 23) v = "8192000";
      if (field == 24) v = "10";
      stat += " " + v;
    }
    portico::test::writeFile(self + "/stat", stat + "\n");
    portico::test::writeFile(self + "/fd/0", "");
    portico::test::writeFile(self + "/fd/1", "");
    portico::test::writeFile(self + "/fd/2", "");
    portico::test::writeFile(dir.file("stat"), "cpu 1 2 3\nbtime 1700000000\nprocesses 5\n");
    Exposition out;
    ProcessMetrics(self, dir.file("stat")).collect(out);
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    const std::string& text = out.text();
    auto has = [&](const std::string& line) {
      CPPUNIT_ASSERT_MESSAGE(line + " in\n" + text, text.find(line + "\n") != std::string::npos);
    };
    has("process_cpu_seconds_total " + Exposition::formatValue(400 / tick));
    has("process_resident_memory_bytes " + Exposition::formatValue(10 * page));
    has("process_virtual_memory_bytes 8192000");
    has("process_start_time_seconds " + Exposition::formatValue(1700000000 + 1000 / tick));
    has("process_open_fds 3");
    has("# TYPE process_cpu_seconds_total counter");
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsTest);
