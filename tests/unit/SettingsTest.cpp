#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>

#include "base/Errors.h"
#include "config/Settings.h"

using namespace std::chrono_literals;
using portico::ConfigError;
using portico::Settings;

namespace {

Settings load(const std::map<std::string, std::string>& kv) {
  auto c = Poco::makeAuto<Poco::Util::MapConfiguration>();
  for (const auto& [k, v] : kv) c->setString(k, v);
  return Settings::load(*c);
}

/// The key a ConfigError names for this configuration, or "" when it loads.
std::string failingKey(const std::map<std::string, std::string>& kv) {
  try {
    load(kv);
    return "";
  } catch (const ConfigError& e) {
    // The one-line message starts with the key.
    CPPUNIT_ASSERT_EQUAL(0, static_cast<int>(std::string(e.what()).find(e.key() + ": ")));
    return e.key();
  }
}

}  // namespace

/// Every configuration key: defaults, overrides and the validation that names the key.
class SettingsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SettingsTest);
  CPPUNIT_TEST(testDefaults);
  CPPUNIT_TEST(testOverrides);
  CPPUNIT_TEST(testEveryKeyValidated);
  CPPUNIT_TEST(testRoutes);
  CPPUNIT_TEST(testTrafficKeys);
  CPPUNIT_TEST(testRouteErrors);
  CPPUNIT_TEST(testUnknownSections);
  CPPUNIT_TEST(testOperationsKeys);
  CPPUNIT_TEST(testRefusalsFoundByFuzzing);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testDefaults() {
    const Settings s = load({});
    CPPUNIT_ASSERT_EQUAL(std::string("data/portico.db"), s.storePath);
    CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), s.proxy.host);
    CPPUNIT_ASSERT_EQUAL(8080, s.proxy.port);
    CPPUNIT_ASSERT(s.proxy.reloadInterval == 100ms);
    CPPUNIT_ASSERT(s.proxy.connectTimeout == 2s);
    CPPUNIT_ASSERT(s.proxy.readTimeout == 30s);
    CPPUNIT_ASSERT_EQUAL(0, s.proxy.workers);         // one event loop per core
    CPPUNIT_ASSERT(s.proxy.maxConnections >= 10000);  // 8,000 idle clients and then some
    CPPUNIT_ASSERT(s.proxy.queue >= 1000);
    CPPUNIT_ASSERT(s.proxy.keepAliveTimeout == 75s);  // as nginx
    CPPUNIT_ASSERT(s.proxy.clientHeaderTimeout == 60s);
    CPPUNIT_ASSERT(s.proxy.clientBodyTimeout == 60s);
    CPPUNIT_ASSERT(s.proxy.sendTimeout == 60s);
    CPPUNIT_ASSERT(s.proxy.drainTimeout == 10s);
    CPPUNIT_ASSERT_EQUAL(32 * 1024, s.proxy.maxHeaderBytes);
    CPPUNIT_ASSERT_EQUAL(std::string("stdout"), s.proxy.accessLog);
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(s.proxy.trustedProxies.size()));
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), s.admin.host);
    CPPUNIT_ASSERT_EQUAL(9090, s.admin.port);
    CPPUNIT_ASSERT_EQUAL(std::string("/endpoints"), s.admin.prefix);
    CPPUNIT_ASSERT(s.admin.token.empty());
    CPPUNIT_ASSERT(s.admin.clientHeaderTimeout == 10s);
    CPPUNIT_ASSERT(s.health.interval == 5s);
    CPPUNIT_ASSERT(s.health.timeout == 3s);
    CPPUNIT_ASSERT_EQUAL(1, s.health.fall);
    CPPUNIT_ASSERT_EQUAL(1, s.health.rise);
    CPPUNIT_ASSERT(s.health.type == portico::ProbeType::Tcp);
    CPPUNIT_ASSERT_EQUAL(std::string("/"), s.health.path);
    CPPUNIT_ASSERT(s.routes.empty());
  }

  void testOverrides() {
    const Settings s = load({{"store.path", "/tmp/x.db"},
                             {"proxy.host", "127.0.0.1"},
                             {"proxy.port", "18080"},
                             {"proxy.reload_interval", "50ms"},
                             {"proxy.connect_timeout", "1s"},
                             {"proxy.read_timeout", "1m"},
                             {"proxy.threads", "64"},
                             {"proxy.workers", "3"},
                             {"proxy.max_connections", "100"},
                             {"proxy.keepalive_timeout", "5s"},
                             {"proxy.client_header_timeout", "2s"},
                             {"proxy.max_header_bytes", "8192"},
                             {"proxy.queue", "128"},
                             {"proxy.access_log", "off"},
                             {"proxy.trusted_proxies", "10.0.0.1, 10.0.0.2 ,"},
                             {"admin.host", "0.0.0.0"},
                             {"admin.port", "19090"},
                             {"admin.prefix", "admin/"},
                             {"admin.token", " s3cret "},
                             {"admin.client_header_timeout", "2s"},
                             {"admin.client_body_timeout", "500ms"},
                             {"health.interval", "1s"},
                             {"health.timeout", "500ms"},
                             {"health.fall", "3"},
                             {"health.rise", "2"},
                             {"health.type", "http"},
                             {"health.path", "/healthz"}});
    CPPUNIT_ASSERT_EQUAL(std::string("/tmp/x.db"), s.storePath);
    CPPUNIT_ASSERT_EQUAL(18080, s.proxy.port);
    CPPUNIT_ASSERT(s.proxy.reloadInterval == 50ms);
    CPPUNIT_ASSERT(s.proxy.readTimeout == 60s);
    CPPUNIT_ASSERT_EQUAL(3, s.proxy.workers);
    CPPUNIT_ASSERT_EQUAL(100, s.proxy.maxConnections);
    CPPUNIT_ASSERT(s.proxy.keepAliveTimeout == 5s);
    CPPUNIT_ASSERT(s.proxy.clientHeaderTimeout == 2s);
    CPPUNIT_ASSERT_EQUAL(8192, s.proxy.maxHeaderBytes);
    CPPUNIT_ASSERT_EQUAL(std::string("off"), s.proxy.accessLog);
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(s.proxy.trustedProxies.size()));
    CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.2"), s.proxy.trustedProxies[1]);
    CPPUNIT_ASSERT_EQUAL(std::string("/admin"), s.admin.prefix);
    CPPUNIT_ASSERT_EQUAL(std::string("s3cret"), s.admin.token);
    CPPUNIT_ASSERT(s.admin.clientHeaderTimeout == 2s);
    CPPUNIT_ASSERT(s.admin.clientBodyTimeout == 500ms);
    CPPUNIT_ASSERT(s.health.interval == 1s);
    CPPUNIT_ASSERT_EQUAL(3, s.health.fall);
    CPPUNIT_ASSERT(s.health.type == portico::ProbeType::Http);
    CPPUNIT_ASSERT_EQUAL(std::string("/healthz"), s.health.path);
  }

  void testEveryKeyValidated() {
    const std::map<std::string, std::vector<std::string>> bad{
        {"store.path", {""}},
        {"proxy.host", {""}},
        {"proxy.port", {"0", "65536", "http", "80x", "-1"}},
        {"proxy.reload_interval", {"100", "5ms", "fast"}},
        {"proxy.connect_timeout", {"2", "0ms"}},
        {"proxy.read_timeout", {"30", "x"}},
        {"proxy.threads", {"lots", "100000"}},
        {"proxy.workers", {"-1", "x", "257"}},
        {"proxy.max_connections", {"0", "x"}},
        {"proxy.keepalive_timeout", {"75", "0s"}},
        {"proxy.client_header_timeout", {"60"}},
        {"proxy.client_body_timeout", {"x"}},
        {"proxy.send_timeout", {"0ms"}},
        {"proxy.drain_timeout", {"10"}},
        {"proxy.max_header_bytes", {"100", "x"}},
        {"proxy.queue", {"0", "x"}},
        {"proxy.access_log", {""}},
        {"admin.host", {""}},
        {"admin.port", {"0", "99999", "x"}},
        {"admin.prefix", {"/", "/a b", "/a?b"}},
        {"admin.client_header_timeout", {"10", "0s"}},
        {"admin.client_body_timeout", {"x"}},
        {"health.interval", {"5", "1ms"}},
        {"health.timeout", {"3", "0s"}},
        {"health.fall", {"0", "x"}},
        {"health.rise", {"0", "1001"}},
        {"health.type", {"udp"}},
        {"health.path", {"healthz", "/a b"}},
        {"proxy.bogus", {"1"}},
        {"admin.tokn", {"x"}},
    };
    for (const auto& [key, values] : bad)
      for (const auto& v : values)
        CPPUNIT_ASSERT_EQUAL_MESSAGE(key + "=" + v, key, failingKey({{key, v}}));
  }

  void testRoutes() {
    const Settings s =
        load({{"health.interval", "2s"},
              {"route.proxy.prefix", "proxy"},
              {"route.proxy.targets",
               "http://localhost:8081, http://localhost:8082/,http://localhost:8081"},
              {"route.api.prefix", "/api/"},
              {"route.api.targets", "http://127.0.0.1:9000/v1"},
              {"route.api.balancer", "ip_hash"},
              {"route.api.health.type", "http"},
              {"route.api.health.path", "/healthz"},
              {"route.api.health.fall", "3"},
              {"route.api.upstream_protocol", "h2"}});
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(s.routes.size()));
    const auto& api = s.routes[0].name == "api" ? s.routes[0] : s.routes[1];
    const auto& proxy = s.routes[0].name == "api" ? s.routes[1] : s.routes[0];
    CPPUNIT_ASSERT_EQUAL(std::string("/proxy/"), proxy.spec.prefix);
    CPPUNIT_ASSERT_EQUAL(2, static_cast<int>(proxy.spec.targets.size()));  // duplicate dropped
    CPPUNIT_ASSERT_EQUAL(std::string("http://localhost:8082"), proxy.spec.targets[1].url);
    CPPUNIT_ASSERT(proxy.spec.balancer == portico::BalancerKind::RoundRobin);
    CPPUNIT_ASSERT(proxy.spec.health.interval == 2s);  // inherits health.*
    CPPUNIT_ASSERT(api.spec.balancer == portico::BalancerKind::IpHash);
    CPPUNIT_ASSERT(api.spec.health.type == portico::ProbeType::Http);
    CPPUNIT_ASSERT_EQUAL(std::string("/healthz"), api.spec.health.path);
    CPPUNIT_ASSERT_EQUAL(3, api.spec.health.fall);
    CPPUNIT_ASSERT_EQUAL(1, api.spec.health.rise);
    CPPUNIT_ASSERT(api.spec.health.slowStart == 0ms);  // off unless asked for
    CPPUNIT_ASSERT(api.spec.policies.upstream.protocol == portico::UpstreamPolicy::Protocol::H2);
    CPPUNIT_ASSERT(proxy.spec.policies.upstream.protocol ==
                   portico::UpstreamPolicy::Protocol::Http11);
  }

  void testTrafficKeys() {
    const Settings s =
        load({{"store.history_limit", "500"},
              {"health.slow_start", "30s"},
              {"route.a.prefix", "/a/"},
              {"route.a.targets", "http://h:1 weight=300, http://h:2,http://h:3  weight=0"},
              {"route.b.prefix", "/b/"},
              {"route.b.health.slow_start", "0s"}});
    CPPUNIT_ASSERT_EQUAL(std::int64_t(500), s.historyLimit);
    CPPUNIT_ASSERT(s.health.slowStart == 30s);
    const auto& a = s.routes[0].name == "a" ? s.routes[0] : s.routes[1];
    const auto& b = s.routes[0].name == "a" ? s.routes[1] : s.routes[0];
    CPPUNIT_ASSERT(a.spec.health.slowStart == 30s);  // inherits health.slow_start
    CPPUNIT_ASSERT(b.spec.health.slowStart == 0ms);
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), a.spec.targets.size());
    CPPUNIT_ASSERT(a.spec.targets[0] == portico::TargetSpec("http://h:1", 300));
    CPPUNIT_ASSERT(a.spec.targets[1] == portico::TargetSpec("http://h:2", 100));
    CPPUNIT_ASSERT(a.spec.targets[2] == portico::TargetSpec("http://h:3", 0));
    CPPUNIT_ASSERT_EQUAL(std::int64_t(100000), load({}).historyLimit);

    for (const auto& [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"store.history_limit", "0"},
                                                          {"store.history_limit", "many"},
                                                          {"health.slow_start", "-1s"},
                                                          {"health.slow_start", "30"}})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(key + "=" + value, key, failingKey({{key, value}}));
    for (const char* targets : {"http://h:1 weight=1001", "http://h:1 weight=-1",
                                "http://h:1 weight=", "http://h:1 heavy", "http://h:1 weight=2x"})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(
          targets, std::string("route.a.targets"),
          failingKey({{"route.a.prefix", "/a/"}, {"route.a.targets", targets}}));
    CPPUNIT_ASSERT_EQUAL(
        std::string("route.a.health.slow_start"),
        failingKey({{"route.a.prefix", "/a/"}, {"route.a.health.slow_start", "soon"}}));
  }

  void testUnknownSections() {
    auto c = Poco::makeAuto<Poco::Util::MapConfiguration>();
    c->setString("proxy.port", "8080");
    c->setString("route.a.prefix", "/a/");
    Settings::rejectUnknownSections(*c);  // known sections pass
    c->setString("helth.interval", "1s");
    try {
      Settings::rejectUnknownSections(*c);
      CPPUNIT_FAIL("accepted a misspelled section");
    } catch (const ConfigError& e) {
      CPPUNIT_ASSERT_EQUAL(std::string("helth"), e.key());
    }
  }

  void testRouteErrors() {
    CPPUNIT_ASSERT_EQUAL(std::string("route.a.prefix"),
                         failingKey({{"route.a.targets", "http://x:1"}}));
    CPPUNIT_ASSERT_EQUAL(std::string("route.a.targets"),
                         failingKey({{"route.a.prefix", "/a/"}, {"route.a.targets", "ftp://x:1"}}));
    CPPUNIT_ASSERT_EQUAL(std::string("route.a.balancer"),
                         failingKey({{"route.a.prefix", "/a/"}, {"route.a.balancer", "random"}}));
    CPPUNIT_ASSERT_EQUAL(
        std::string("route.a.upstream_protocol"),
        failingKey({{"route.a.prefix", "/a/"}, {"route.a.upstream_protocol", "h2c"}}));
    CPPUNIT_ASSERT_EQUAL(
        std::string("route.a.health.interval"),
        failingKey({{"route.a.prefix", "/a/"}, {"route.a.health.interval", "soon"}}));
    CPPUNIT_ASSERT_EQUAL(std::string("route.a.health.kind"),
                         failingKey({{"route.a.prefix", "/a/"}, {"route.a.health.kind", "tcp"}}));
    CPPUNIT_ASSERT_EQUAL(std::string("route.a.weight"),
                         failingKey({{"route.a.prefix", "/a/"}, {"route.a.weight", "1"}}));
    const std::string dup = failingKey({{"route.a.prefix", "/a/"}, {"route.b.prefix", "a"}});
    CPPUNIT_ASSERT(dup == "route.a.prefix" || dup == "route.b.prefix");
  }
  void testOperationsKeys() {
    // Defaults: status listener on loopback 9091, portico access lines, info text logs.
    const Settings d = load({});
    CPPUNIT_ASSERT(d.proxy.statusEnabled);
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), d.proxy.statusHost);
    CPPUNIT_ASSERT_EQUAL(9091, d.proxy.statusPort);
    CPPUNIT_ASSERT_EQUAL(std::string("portico"), d.proxy.accessLogFormat);
    CPPUNIT_ASSERT(d.log.level == portico::LogLevel::Info);
    CPPUNIT_ASSERT(d.log.format == portico::LogFormat::Text);

    const Settings s = load({{"proxy.status_host", "0.0.0.0"},
                             {"proxy.status_port", "19091"},
                             {"proxy.access_log_format", "json"},
                             {"log.level", "debug"},
                             {"log.format", "json"}});
    CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), s.proxy.statusHost);
    CPPUNIT_ASSERT_EQUAL(19091, s.proxy.statusPort);
    CPPUNIT_ASSERT_EQUAL(std::string("json"), s.proxy.accessLogFormat);
    CPPUNIT_ASSERT(s.log.level == portico::LogLevel::Debug);
    CPPUNIT_ASSERT(s.log.format == portico::LogFormat::Json);
    CPPUNIT_ASSERT(!load({{"proxy.status_port", "off"}}).proxy.statusEnabled);
    CPPUNIT_ASSERT(!load({{"proxy.status_host", "off"}}).proxy.statusEnabled);
    CPPUNIT_ASSERT_EQUAL(std::string("combined"),
                         load({{"proxy.access_log_format", "combined"}}).proxy.accessLogFormat);
    CPPUNIT_ASSERT(load({{"log.level", "warn"}}).log.level == portico::LogLevel::Warn);
    CPPUNIT_ASSERT(load({{"log.level", "error"}}).log.level == portico::LogLevel::Error);

    const struct {
      const char* key;
      const char* value;
    } bad[] = {{"proxy.status_port", "0"},
               {"proxy.status_port", "nine"},
               {"proxy.status_port", "8080"},
               {"proxy.status_host", ""},
               {"proxy.access_log_format", "x"},
               {"log.level", "trace"},
               {"log.format", "xml"},
               {"log.colour", "yes"}};
    for (const auto& b : bad)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(b.key) + "=" + b.value, std::string(b.key),
                                   failingKey({{b.key, b.value}}));
    CPPUNIT_ASSERT_EQUAL(std::string("admin.prefix"), failingKey({{"admin.prefix", "/metrics"}}));
  }

  void testRefusalsFoundByFuzzing() {
    // A ${...} reference loop is a refusal naming the key, not an uncaught POCO exception.
    CPPUNIT_ASSERT_EQUAL(
        std::string("admin.prefix"),
        failingKey({{"admin.prefix", "${admin.token}"}, {"admin.token", "${admin.prefix}"}}));
    // A file line "= value" has an empty key: it is still named.
    auto empty = Poco::makeAuto<Poco::Util::MapConfiguration>();
    empty->setString("", "value");
    try {
      Settings::rejectUnknownSections(*empty);
      CPPUNIT_FAIL("accepted an empty key");
    } catch (const ConfigError& e) {
      CPPUNIT_ASSERT_EQUAL(std::string("''"), e.key());
    }
    // --define values: split at the first '=', and a malformed one names --define.
    CPPUNIT_ASSERT(Settings::parseDefine("a.b=c=d") ==
                   std::make_pair(std::string("a.b"), std::string("c=d")));
    for (const char* bad : {"novalue", "=x", ""})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, Settings::parseDefine(bad), ConfigError);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SettingsTest);
