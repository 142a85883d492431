#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "base/Errors.h"
#include "config/SettingKeys.h"
#include "config/Settings.h"
#include "support/TestSupport.h"

using portico::ConfigError;
using portico::SettingKey;
using portico::settingKeys;
using portico::Settings;
using portico::SettingType;

namespace {

Settings load(const std::map<std::string, std::string>& kv) {
  auto c = Poco::makeAuto<Poco::Util::MapConfiguration>();
  for (const auto& [k, v] : kv) c->setString(k, v);
  return Settings::load(*c);
}

std::vector<std::string> propertiesLines() {
  std::ifstream in(portico::test::sourceDir() + "/conf/portico.properties");
  CPPUNIT_ASSERT_MESSAGE("conf/portico.properties is readable", in.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// The `key = value` lines of the file, commented out or not: key to value.
std::map<std::string, std::string> documentedValues() {
  static const std::regex assignment(R"(^#?([a-z_0-9]+(\.[a-z_0-9<>]+)+)\s*=\s*(.*?)\s*$)");
  std::map<std::string, std::string> values;
  for (const auto& line : propertiesLines()) {
    std::smatch m;
    if (std::regex_match(line, m, assignment)) values.emplace(m[1], m[3]);
  }
  return values;
}

bool isRouteKey(const SettingKey& key) {
  return key.name.rfind("route.", 0) == 0;
}

}  // namespace

/// config/SettingKeys, the one list of keys: conf/portico.properties documents exactly its keys,
/// with its defaults, and Settings::load reads them as it declares.
class SettingKeysTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SettingKeysTest);
  CPPUNIT_TEST(testFileDocumentsEveryKeyWithItsDefault);
  CPPUNIT_TEST(testFileDocumentsNoUnknownKey);
  CPPUNIT_TEST(testDefaultsAndExamplesLoad);
  CPPUNIT_TEST(testRangesAreRefused);
  CPPUNIT_TEST(testStructDefaultsMatchTable);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFileDocumentsEveryKeyWithItsDefault() {
    const auto values = documentedValues();
    for (const auto& key : settingKeys()) {
      const std::string name(key.name);
      CPPUNIT_ASSERT_MESSAGE(name + " has a line of doc", !key.doc.empty());
      if (isRouteKey(key)) continue;
      const auto it = values.find(name);
      CPPUNIT_ASSERT_MESSAGE(name + " is documented in conf/portico.properties",
                             it != values.end());
      const std::string_view shown = key.example.empty() ? key.byDefault : key.example;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(name, std::string(shown), it->second);
    }
    // Route keys are described in a comment block, the per-route health checks on one line.
    std::string text;
    for (const auto& line : propertiesLines()) text += line + "\n";
    for (const auto& key : settingKeys()) {
      if (isRouteKey(key))
        CPPUNIT_ASSERT_MESSAGE(std::string(key.name),
                               text.find("# " + std::string(key.name)) != std::string::npos);
      if (!key.perRoute) continue;
      const std::string suffix(key.name.substr(key.name.find('.')));
      const auto line = text.find("# route.<name>.health" + suffix);
      const auto later = text.find(" / " + suffix, text.find("# route.<name>.health"));
      CPPUNIT_ASSERT_MESSAGE("route.<name>.health" + suffix,
                             line != std::string::npos || later != std::string::npos);
    }
  }

  void testFileDocumentsNoUnknownKey() {
    std::set<std::string> known;
    for (const auto& key : settingKeys()) {
      known.emplace(key.name);
      if (key.perRoute) known.insert("route.<name>." + std::string(key.name));
    }
    static const std::regex routeKey(R"(^route\.[^.]+\.(.*)$)");
    for (const auto& [name, value] : documentedValues()) {
      const std::string generic = std::regex_replace(name, routeKey, "route.<name>.$1");
      CPPUNIT_ASSERT_MESSAGE(name + " is in config/SettingKeys.cpp", known.count(generic));
    }
  }

  void testDefaultsAndExamplesLoad() {
    for (const auto& key : settingKeys()) {
      if (isRouteKey(key) || key.name.rfind("proxy.tls.", 0) == 0) continue;
      const std::string name(key.name);
      if (!key.byDefault.empty() && key.byDefault[0] != '<' && key.byDefault[0] != '(')
        CPPUNIT_ASSERT_NO_THROW_MESSAGE(name, load({{name, std::string(key.byDefault)}}));
      if (!key.example.empty())
        CPPUNIT_ASSERT_NO_THROW_MESSAGE(name, load({{name, std::string(key.example)}}));
    }
    CPPUNIT_ASSERT_NO_THROW(load({{"proxy.tls.port", "8443"},
                                  {"proxy.tls.certificates", "a.pem:a.key, b.pem:b.key"},
                                  {"proxy.tls.http2", "true"}}));
  }

  void testRangesAreRefused() {
    for (const auto& key : settingKeys()) {
      if (isRouteKey(key) || key.name.rfind("proxy.tls.", 0) == 0) continue;
      const std::string name(key.name);
      if (key.type == SettingType::Integer || key.type == SettingType::PortOrOff) {
        CPPUNIT_ASSERT_THROW_MESSAGE(name, load({{name, std::to_string(key.min - 1)}}),
                                     ConfigError);
        CPPUNIT_ASSERT_THROW_MESSAGE(name, load({{name, std::to_string(key.max + 1)}}),
                                     ConfigError);
        CPPUNIT_ASSERT_NO_THROW_MESSAGE(name, load({{name, std::to_string(key.max)}}));
      } else if (key.type == SettingType::Duration && key.min > 0) {
        CPPUNIT_ASSERT_THROW_MESSAGE(name, load({{name, std::to_string(key.min - 1) + "ms"}}),
                                     ConfigError);
        CPPUNIT_ASSERT_NO_THROW_MESSAGE(name, load({{name, std::to_string(key.min) + "ms"}}));
      }
    }
  }

  void testStructDefaultsMatchTable() {
    // Code that builds Settings by hand gets the defaults the table documents.
    const Settings d;
    const Settings t = load({});
    CPPUNIT_ASSERT_EQUAL(d.storePath, t.storePath);
    CPPUNIT_ASSERT_EQUAL(d.storeUrl, t.storeUrl);
    CPPUNIT_ASSERT_EQUAL(d.historyLimit, t.historyLimit);
    const auto& p = d.proxy;
    const auto& q = t.proxy;
    CPPUNIT_ASSERT_EQUAL(p.host, q.host);
    CPPUNIT_ASSERT_EQUAL(p.port, q.port);
    CPPUNIT_ASSERT(p.reloadInterval == q.reloadInterval);
    CPPUNIT_ASSERT(p.connectTimeout == q.connectTimeout);
    CPPUNIT_ASSERT(p.readTimeout == q.readTimeout);
    CPPUNIT_ASSERT_EQUAL(p.workers, q.workers);
    CPPUNIT_ASSERT_EQUAL(p.threads, q.threads);
    CPPUNIT_ASSERT_EQUAL(p.queue, q.queue);
    CPPUNIT_ASSERT_EQUAL(p.maxConnections, q.maxConnections);
    CPPUNIT_ASSERT(p.keepAliveTimeout == q.keepAliveTimeout);
    CPPUNIT_ASSERT(p.clientHeaderTimeout == q.clientHeaderTimeout);
    CPPUNIT_ASSERT(p.clientBodyTimeout == q.clientBodyTimeout);
    CPPUNIT_ASSERT(p.sendTimeout == q.sendTimeout);
    CPPUNIT_ASSERT(p.drainTimeout == q.drainTimeout);
    CPPUNIT_ASSERT_EQUAL(p.maxHeaderBytes, q.maxHeaderBytes);
    CPPUNIT_ASSERT_EQUAL(p.accessLog, q.accessLog);
    CPPUNIT_ASSERT_EQUAL(p.accessLogFormat, q.accessLogFormat);
    CPPUNIT_ASSERT(p.trustedProxies == q.trustedProxies);
    CPPUNIT_ASSERT_EQUAL(p.statusEnabled, q.statusEnabled);
    CPPUNIT_ASSERT_EQUAL(p.statusHost, q.statusHost);
    CPPUNIT_ASSERT_EQUAL(p.statusPort, q.statusPort);
    CPPUNIT_ASSERT_EQUAL(p.tls.enabled, q.tls.enabled);
    CPPUNIT_ASSERT_EQUAL(
        p.tls.http2,
        load({{"proxy.tls.port", "8443"}, {"proxy.tls.certificates", "a:b"}}).proxy.tls.http2);
    CPPUNIT_ASSERT_EQUAL(d.upstreamTls.verify, t.upstreamTls.verify);
    CPPUNIT_ASSERT_EQUAL(d.upstreamTls.caFile, t.upstreamTls.caFile);
    CPPUNIT_ASSERT_EQUAL(d.admin.host, t.admin.host);
    CPPUNIT_ASSERT_EQUAL(d.admin.port, t.admin.port);
    CPPUNIT_ASSERT_EQUAL(d.admin.prefix, t.admin.prefix);
    CPPUNIT_ASSERT_EQUAL(d.admin.token, t.admin.token);
    CPPUNIT_ASSERT(d.admin.clientHeaderTimeout == t.admin.clientHeaderTimeout);
    CPPUNIT_ASSERT(d.admin.clientBodyTimeout == t.admin.clientBodyTimeout);
    CPPUNIT_ASSERT(d.sidecar.leaseTimeout == t.sidecar.leaseTimeout);
    CPPUNIT_ASSERT(d.health == t.health);
    CPPUNIT_ASSERT(d.log.level == t.log.level);
    CPPUNIT_ASSERT(d.log.format == t.log.format);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SettingKeysTest);
