// The registry of proxies end to end, built twice: three proxies and a sidecar on one SQLite
// file (registry_e2e_tests), and on one PostgreSQL server through the cluster harness
// (registry_cluster_e2e_tests). Proxies report in; a write with `wait` answers once every proxy
// serves it; stopped and frozen proxies turn stale and stop holding writes; a proxy whose row
// the store refuses keeps serving.

#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>

#include <memory>
#include <set>

#include "e2e/SidecarHarness.h"
#include "support/TestSupport.h"
#ifdef PORTICO_STORE_POSTGRES
#include "e2e/ClusterHarness.h"
#include "support/PostgresServer.h"
#else
#include "store/sqlite/Sqlite.h"
#endif

using namespace std::chrono_literals;
using portico::test::binary;
using portico::test::ChildProcess;
using portico::test::freePort;
using portico::test::http;
using portico::test::HttpResult;
using portico::test::parseObject;
using portico::test::Sidecar;
using portico::test::waitUntil;

namespace {

// Every proxy beats once a second: stale after 3 s without a beat.
const std::string kHeartbeat = "proxy.heartbeat_interval=1s";

/// One sidecar and proxies on one store: a SQLite file or a PostgreSQL database.
class Fleet {
 public:
#ifdef PORTICO_STORE_POSTGRES
  static portico::test::PostgresServer& server() {
    static portico::test::PostgresServer instance;
    return instance;
  }
  Fleet() : cluster_(server()), sidecar_(&cluster_.sidecar("s1")) {}
  /// Starts a proxy named `id`; returns its port.
  int proxy(const std::string& id) {
    const int port = cluster_.proxy({"proxy.id=" + id, kHeartbeat});
    ports_.push_back(port);
    return port;
  }
  ChildProcess& proxyProcess(std::size_t i) {
    return cluster_.proxyProcess(i);
  }
  std::string echo(const std::string& name) {
    return cluster_.echo(name);
  }
  void sql(const std::string& statement) {
    cluster_.query(statement);
  }
  /// Makes the proxies table refuse every write, as a store read-only for the proxy would.
  void refuseProxyRows() {
    sql("CREATE FUNCTION refuse_proxy_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'proxies is read-only here'; END $$");
    sql("CREATE TRIGGER refuse_proxy_rows BEFORE INSERT OR UPDATE ON proxies FOR EACH ROW "
        "EXECUTE FUNCTION refuse_proxy_rows()");
  }
#else
  Fleet() : sidecar_(std::make_unique<Sidecar>(dir_)) {
    if (!sidecar_->ready()) CPPUNIT_FAIL("sidecar did not start: " + sidecar_->process().log());
  }
  int proxy(const std::string& id) {
    const int port = freePort();
    const std::vector<std::string> args{"--define=store.path=" + dir_.file("p.db"),
                                        "--define=proxy.port=" + std::to_string(port),
                                        "--define=proxy.host=127.0.0.1",
                                        "--define=proxy.status_port=off",
                                        "--define=proxy.access_log=off",
                                        "--define=proxy.reload_interval=100ms",
                                        "--define=proxy.id=" + id,
                                        "--define=" + kHeartbeat};
    proxies_.push_back(std::make_unique<ChildProcess>(
        binary("portico-proxy"), args, dir_.file("proxy-" + id + ".log"), dir_.path()));
    if (!portico::test::waitForPort(port))
      CPPUNIT_FAIL("proxy did not start: " + proxies_.back()->log());
    ports_.push_back(port);
    return port;
  }
  ChildProcess& proxyProcess(std::size_t i) {
    return *proxies_.at(i);
  }
  std::string echo(const std::string& name) {
    const int port = freePort();
    echos_.push_back(std::make_unique<ChildProcess>(
        binary("portico-echo"),
        std::vector<std::string>{"--port=" + std::to_string(port), "--name=" + name},
        dir_.file("echo-" + name + ".log"), dir_.path()));
    if (!portico::test::waitForPort(port)) CPPUNIT_FAIL("echo " + name + " did not start");
    return portico::test::localUrl(port);
  }
  void sql(const std::string& statement) {
    portico::SqliteConnection(dir_.file("p.db"), SQLITE_OPEN_READWRITE).exec(statement);
  }
  void refuseProxyRows() {
    for (const char* event : {"INSERT", "UPDATE"})
      sql(std::string("CREATE TRIGGER refuse_proxy_rows_") + event + " BEFORE " + event +
          " ON proxies BEGIN SELECT RAISE(ABORT, 'proxies is read-only here'); END");
  }
#endif
  Sidecar& sidecar() {
    return *sidecar_;
  }
  int port(std::size_t i) const {
    return ports_.at(i);
  }

  /// GET /endpoints/proxies: id -> its object, and the store's revision.
  std::map<std::string, Poco::JSON::Object::Ptr> proxies(long long* revision = nullptr) {
    const auto r = sidecar_->request("GET", "/endpoints/proxies");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
    const auto body = parseObject(r);
    if (revision) *revision = body->getValue<long long>("revision");
    std::map<std::string, Poco::JSON::Object::Ptr> out;
    const auto list = body->getArray("proxies");
    for (std::size_t i = 0; i < list->size(); ++i)
      out[list->getObject(i)->getValue<std::string>("id")] = list->getObject(i);
    return out;
  }
  std::string stateOf(const std::string& id) {
    const auto all = proxies();
    const auto it = all.find(id);
    return it == all.end() ? "absent" : it->second->getValue<std::string>("state");
  }
  /// True once every id in `ids` is live at the store's revision.
  bool allLive(const std::set<std::string>& ids) {
    long long revision = 0;
    const auto all = proxies(&revision);
    for (const auto& id : ids) {
      const auto it = all.find(id);
      if (it == all.end() || it->second->getValue<std::string>("state") != "live" ||
          it->second->getValue<long long>("revision") != revision)
        return false;
    }
    return true;
  }

  /// POST /endpoints/routes for `prefix` to `target`, with `query` ("?wait=5s").
  HttpResult createRoute(const std::string& prefix, const std::string& target,
                         const std::string& query) {
    return sidecar_->request("POST", "/endpoints/routes" + query,
                             R"({"prefixPath":")" + prefix + R"(","targets":[")" + target +
                                 R"("],"healthCheck":{"interval":"60s","timeout":"1s"}})",
                             {{"Content-Type", "application/json"}});
  }

 private:
#ifdef PORTICO_STORE_POSTGRES
  portico::test::Cluster cluster_;
  Sidecar* sidecar_;
#else
  portico::test::TempDir dir_;
  std::unique_ptr<Sidecar> sidecar_;
  std::vector<std::unique_ptr<ChildProcess> > proxies_;
  std::vector<std::unique_ptr<ChildProcess> > echos_;
#endif
  std::vector<int> ports_;
};

/// Starts three proxies "p1", "p2", "p3" and waits until all three are live.
void startThree(Fleet& fleet) {
  for (const char* id : {"p1", "p2", "p3"}) fleet.proxy(id);
  if (!waitUntil([&] { return fleet.allLive({"p1", "p2", "p3"}); }, 15s))
    CPPUNIT_FAIL("three proxies never live");
}

}  // namespace

class ProxyRegistryTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyRegistryTest);
  CPPUNIT_TEST(testThreeProxiesReportIn);
  CPPUNIT_TEST(testWaitedWriteIsServedByEveryProxy);
  CPPUNIT_TEST(testStoppedProxyTurnsStaleAndHoldsNothing);
  CPPUNIT_TEST(testFrozenProxyIsWaitedForUntilTheDuration);
  CPPUNIT_TEST(testRefusedRowKeepsTheProxyServing);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testThreeProxiesReportIn() {
    Fleet fleet;
    startThree(fleet);
    long long revision = 0;
    const auto all = fleet.proxies(&revision);
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), all.size());
    for (std::size_t i = 0; i < 3; ++i) {
      const auto& p = all.at("p" + std::to_string(i + 1));
      CPPUNIT_ASSERT_EQUAL("127.0.0.1:" + std::to_string(fleet.port(i)),
                           p->getArray("addresses")->getElement<std::string>(0));
      CPPUNIT_ASSERT_EQUAL(revision, p->getValue<long long>("revision"));
      CPPUNIT_ASSERT(!p->getValue<std::string>("version").empty());
      for (const char* time : {"startedAt", "appliedAt", "lastSeen"})
        CPPUNIT_ASSERT_EQUAL(std::size_t(24), p->getValue<std::string>(time).size());
    }
    // The sidecar's metrics count them.
    const auto metrics = fleet.sidecar().request("GET", "/metrics");
    CPPUNIT_ASSERT_MESSAGE(metrics.body, metrics.body.find("portico_proxies{state=\"live\"} 3\n") !=
                                             std::string::npos);
    CPPUNIT_ASSERT(metrics.body.find("portico_proxy_lag_revisions 0\n") != std::string::npos);
  }

  void testWaitedWriteIsServedByEveryProxy() {
    Fleet fleet;
    const std::string echo = fleet.echo("e1");
    startThree(fleet);
    for (int i = 0; i < 5; ++i) {
      const std::string prefix = "/w" + std::to_string(i) + "/";
      const auto r = fleet.createRoute(prefix, echo, "?wait=5s");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 201, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("3/3"), r.header("portico-applied-by"));
      // Served by each proxy the moment the answer is in: no wait, no retry.
      for (std::size_t p = 0; p < 3; ++p) {
        const auto served = http(fleet.port(p), "GET", prefix + "x");
        CPPUNIT_ASSERT_EQUAL_MESSAGE("proxy " + std::to_string(p) + " " + prefix, 200,
                                     served.status);
        CPPUNIT_ASSERT_EQUAL(std::string("e1"), served.header("x-backend"));
      }
    }
    // GET /proxies?revision=N&wait= waits the same way, without a write.
    const auto asked = fleet.sidecar().request("GET", "/endpoints/proxies?wait=5s");
    CPPUNIT_ASSERT_EQUAL(200, asked.status);
    CPPUNIT_ASSERT_EQUAL(std::string("3/3"), asked.header("portico-applied-by"));
  }

  void testStoppedProxyTurnsStaleAndHoldsNothing() {
    Fleet fleet;
    const std::string echo = fleet.echo("e1");
    startThree(fleet);
    // A clean stop says so (stale at once); a killed proxy is stale after three missed beats.
    CPPUNIT_ASSERT(fleet.proxyProcess(2).stop());
    CPPUNIT_ASSERT_EQUAL(std::string("stale"), fleet.stateOf("p3"));
    fleet.proxyProcess(1).kill9();
    CPPUNIT_ASSERT(waitUntil([&] { return fleet.stateOf("p2") == "stale"; }, 10s));
    const auto start = std::chrono::steady_clock::now();
    const auto r = fleet.createRoute("/after/", echo, "?wait=10s");
    CPPUNIT_ASSERT_EQUAL(201, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1/1"), r.header("portico-applied-by"));
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < 8s);  // not held for p2, p3
    const auto metrics = fleet.sidecar().request("GET", "/metrics");
    CPPUNIT_ASSERT(metrics.body.find("portico_proxies{state=\"stale\"} 2\n") != std::string::npos);
  }

  void testFrozenProxyIsWaitedForUntilTheDuration() {
    Fleet fleet;
    const std::string echo = fleet.echo("e1");
    startThree(fleet);
    const pid_t frozen = fleet.proxyProcess(2).pid();
    CPPUNIT_ASSERT_EQUAL(0, ::kill(frozen, SIGSTOP));
    // Its last beat is at most 1 s old: it still follows for 2 s more, so the write is held
    // for the whole second it asks for and answers without it.
    const auto start = std::chrono::steady_clock::now();
    const auto r = fleet.createRoute("/frozen/", echo, "?wait=1s");
    const auto took = std::chrono::steady_clock::now() - start;
    CPPUNIT_ASSERT_EQUAL(201, r.status);
    CPPUNIT_ASSERT(took >= 1s);
    CPPUNIT_ASSERT_EQUAL(std::string("2/3"), r.header("portico-applied-by"));
    // Behind (a revision old for over 1 s) or already stale; then stale.
    const auto state = fleet.stateOf("p3");
    CPPUNIT_ASSERT_MESSAGE(state, state == "behind" || state == "stale");
    CPPUNIT_ASSERT(waitUntil([&] { return fleet.stateOf("p3") == "stale"; }, 10s));
    // Thawed, it catches up and is waited for again.
    CPPUNIT_ASSERT_EQUAL(0, ::kill(frozen, SIGCONT));
    CPPUNIT_ASSERT(waitUntil([&] { return fleet.allLive({"p1", "p2", "p3"}); }, 10s));
    const auto again = fleet.createRoute("/thawed/", echo, "?wait=5s");
    CPPUNIT_ASSERT_EQUAL(std::string("3/3"), again.header("portico-applied-by"));
    CPPUNIT_ASSERT_EQUAL(200, http(fleet.port(2), "GET", "/thawed/").status);
  }

  void testRefusedRowKeepsTheProxyServing() {
    Fleet fleet;
    const std::string echo = fleet.echo("e1");
    fleet.refuseProxyRows();
    const int port = fleet.proxy("refused");
    auto& process = fleet.proxyProcess(0);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return process.log().find("proxy row not written") != std::string::npos; }, 10s));
    CPPUNIT_ASSERT_EQUAL(201, fleet.createRoute("/r/", echo, "").status);
    CPPUNIT_ASSERT(waitUntil([&] { return http(port, "GET", "/r/").status == 200; }, 10s));
    CPPUNIT_ASSERT_EQUAL(std::string("absent"), fleet.stateOf("refused"));
    // Logged once per streak, not once per beat.
    CPPUNIT_ASSERT(portico::test::holdsFor(
        [&] {
          const auto log = process.log();
          return log.find("proxy row not written") == log.rfind("proxy row not written");
        },
        2500ms));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyRegistryTest);
