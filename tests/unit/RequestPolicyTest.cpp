#include <Poco/AutoPtr.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <string>

#include "base/ByteSize.h"
#include "base/Errors.h"
#include "config/Settings.h"
#include "model/ModelJson.h"
#include "model/RoutePolicies.h"

using portico::ConfigError;
using portico::InvalidInput;
using portico::RequestPolicy;
using portico::RoutePolicies;
using portico::Settings;

namespace {

Poco::JSON::Object::Ptr json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

/// The policy a route body gives, read over the defaults.
RequestPolicy read(const std::string& body) {
  RequestPolicy p;
  p.read(*json(body));
  return p;
}

/// The InvalidInput message a body gives, or "" when it reads.
std::string refusal(const std::string& body) {
  try {
    read(body);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

Settings load(const std::map<std::string, std::string>& kv) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
  for (const auto& [k, v] : kv) c->setString(k, v);
  return Settings::load(*c);
}

/// The key a ConfigError names, or "" when the configuration loads.
std::string failingKey(const std::map<std::string, std::string>& kv) {
  try {
    load(kv);
  } catch (const ConfigError& e) {
    return e.key();
  }
  return "";
}

}  // namespace

/// RequestPolicy (issue #19 point 4): what the route body's policy fields read as, what is
/// refused with which field named, the stored form's round trip, and the route.<name>.* keys.
class RequestPolicyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RequestPolicyTest);
  CPPUNIT_TEST(testDefaultsAreTheSeedsBehaviour);
  CPPUNIT_TEST(testFieldsRead);
  CPPUNIT_TEST(testRefusedNameTheField);
  CPPUNIT_TEST(testPatchAppliesOverCurrent);
  CPPUNIT_TEST(testStoredFormRoundTrips);
  CPPUNIT_TEST(testByteSizes);
  CPPUNIT_TEST(testConfigurationKeys);
  CPPUNIT_TEST(testConfigurationKeysRefused);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testDefaultsAreTheSeedsBehaviour() {
    const RequestPolicy p;
    CPPUNIT_ASSERT(p.stripPrefix);
    CPPUNIT_ASSERT(p.preserveHost);
    CPPUNIT_ASSERT(p.rewritePrefix.empty());
    CPPUNIT_ASSERT(p.requestHeaders.empty() && p.responseHeaders.empty());
    CPPUNIT_ASSERT_EQUAL(std::uint64_t{0}, p.maxBodySize);
    auto out = portico::jsonObject();
    p.write(*out);
    CPPUNIT_ASSERT_EQUAL(
        std::string("{\"stripPrefix\":true,\"rewritePrefix\":null,\"preserveHost\":true,"
                    "\"requestHeaders\":{\"set\":{},\"add\":{},\"remove\":[]},"
                    "\"responseHeaders\":{\"set\":{},\"add\":{},\"remove\":[]},"
                    "\"timeouts\":{\"connect\":null,\"read\":null,\"send\":null},"
                    "\"maxBodySize\":null}"),
        portico::toJsonText(out));
  }

  void testFieldsRead() {
    const RequestPolicy p = read(
        R"({"stripPrefix": true, "rewritePrefix": "v2", "preserveHost": false,
            "requestHeaders": {"set": {"X-Env": "prod", "a-first": "1"}, "add": {"X-Tag": "t"},
                               "remove": ["X-Debug"]},
            "responseHeaders": {"remove": ["Server"]},
            "timeouts": {"connect": "1s", "read": "250ms", "send": 2000000000},
            "maxBodySize": "10MiB"})");
    CPPUNIT_ASSERT_EQUAL(std::string("/v2/"), p.rewritePrefix);
    CPPUNIT_ASSERT(!p.preserveHost);
    // Sorted by name whatever order they came in.
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, p.requestHeaders.set.size());
    CPPUNIT_ASSERT_EQUAL(std::string("a-first"), p.requestHeaders.set[0].first);
    CPPUNIT_ASSERT_EQUAL(std::string("X-Env"), p.requestHeaders.set[1].first);
    CPPUNIT_ASSERT_EQUAL(std::string("prod"), p.requestHeaders.set[1].second);
    CPPUNIT_ASSERT_EQUAL(std::string("X-Tag"), p.requestHeaders.add[0].first);
    CPPUNIT_ASSERT_EQUAL(std::string("X-Debug"), p.requestHeaders.remove[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("Server"), p.responseHeaders.remove[0]);
    CPPUNIT_ASSERT_EQUAL(1000L, static_cast<long>(p.timeouts.connect.count()));
    CPPUNIT_ASSERT_EQUAL(250L, static_cast<long>(p.timeouts.read.count()));
    CPPUNIT_ASSERT_EQUAL(2000L, static_cast<long>(p.timeouts.send.count()));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t{10} * 1024 * 1024, p.maxBodySize);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t{512}, read(R"({"maxBodySize": 512})").maxBodySize);
    CPPUNIT_ASSERT(!read(R"({"stripPrefix": false})").stripPrefix);
  }

  void testRefusedNameTheField() {
    struct Row {
      const char* body;
      const char* field;  // the message names it
    };
    const Row rows[] = {
        {R"({"stripPrefix": "no"})", "'stripPrefix'"},
        {R"({"preserveHost": 1})", "'preserveHost'"},
        {R"({"rewritePrefix": "/a b/"})", "'rewritePrefix'"},
        {R"({"rewritePrefix": "/a/../b"})", "'rewritePrefix'"},
        {R"({"rewritePrefix": 5})", "'rewritePrefix'"},
        {R"({"stripPrefix": false, "rewritePrefix": "/v2/"})", "'rewritePrefix'"},
        {R"({"requestHeaders": {"set": {"Connection": "close"}}})",
         "'requestHeaders.set.Connection'"},
        {R"({"requestHeaders": {"set": {"Content-Length": "5"}}})",
         "'requestHeaders.set.Content-Length'"},
        {R"({"requestHeaders": {"add": {"Transfer-Encoding": "chunked"}}})",
         "'requestHeaders.add.Transfer-Encoding'"},
        {R"({"requestHeaders": {"set": {"Host": "a"}}})", "'requestHeaders.set.Host'"},
        {R"({"requestHeaders": {"set": {"X-Forwarded-For": "a"}}})",
         "'requestHeaders.set.X-Forwarded-For'"},
        {R"({"requestHeaders": {"remove": ["Keep-Alive"]}})", "'requestHeaders.remove[0]'"},
        {R"({"requestHeaders": {"remove": ["Proxy-Authorization"]}})",
         "'requestHeaders.remove[0]'"},
        {R"({"responseHeaders": {"set": {"Transfer-Encoding": "x"}}})",
         "'responseHeaders.set.Transfer-Encoding'"},
        {R"({"responseHeaders": {"remove": ["Upgrade"]}})", "'responseHeaders.remove[0]'"},
        {R"({"responseHeaders": {"set": {"TE": "x"}}})", "'responseHeaders.set.TE'"},
        {R"({"requestHeaders": {"set": {"Bad Name": "x"}}})", "'requestHeaders.set.Bad Name'"},
        {R"({"requestHeaders": {"set": {"X-A": "a\r\nX-B: b"}}})", "'requestHeaders.set.X-A'"},
        {R"({"requestHeaders": {"set": {"X-A": 5}}})", "'requestHeaders.set.X-A'"},
        {R"({"requestHeaders": {"set": {"X-A": "1", "x-a": "2"}}})", "'requestHeaders.set'"},
        {R"({"requestHeaders": {"set": {"X-A": "1"}, "remove": ["x-a"]}})",
         "'requestHeaders.remove[0]'"},
        {R"({"requestHeaders": {"replace": {}}})", "requestHeaders.replace"},
        {R"({"requestHeaders": []})", "'requestHeaders'"},
        {R"({"timeouts": {"read": "soon"}})", "'timeouts.read'"},
        {R"({"timeouts": {"idle": "1s"}})", "timeouts.idle"},
        {R"({"timeouts": "1s"})", "'timeouts'"},
        {R"({"maxBodySize": "10 parsecs"})", "'maxBodySize'"},
        {R"({"maxBodySize": -1})", "'maxBodySize'"},
        {R"({"maxBodySize": true})", "'maxBodySize'"},
    };
    for (const auto& r : rows) {
      const std::string why = refusal(r.body);
      CPPUNIT_ASSERT_MESSAGE(std::string(r.body) + " -> " + why,
                             why.find(r.field) != std::string::npos);
    }
    // Ordinary headers of either direction are allowed, Server and Date included.
    CPPUNIT_ASSERT_EQUAL(std::string(), refusal(R"({"responseHeaders": {"set": {"Server": "x"},
                                                   "remove": ["Date", "X-Powered-By"]}})"));
  }

  void testPatchAppliesOverCurrent() {
    RequestPolicy p = read(R"({"rewritePrefix": "/v2/", "maxBodySize": "1KiB",
                               "timeouts": {"read": "1s", "connect": "2s"}})");
    p.read(*json(R"({"timeouts": {"read": null}, "preserveHost": false})"));
    CPPUNIT_ASSERT_EQUAL(std::string("/v2/"), p.rewritePrefix);            // untouched
    CPPUNIT_ASSERT_EQUAL(0L, static_cast<long>(p.timeouts.read.count()));  // back to the proxy's
    CPPUNIT_ASSERT_EQUAL(2000L, static_cast<long>(p.timeouts.connect.count()));
    CPPUNIT_ASSERT(!p.preserveHost);
    p.read(*json(R"({"rewritePrefix": null, "maxBodySize": null})"));
    CPPUNIT_ASSERT(p.rewritePrefix.empty());
    CPPUNIT_ASSERT_EQUAL(std::uint64_t{0}, p.maxBodySize);
    // A patch that would leave a contradiction is refused.
    RequestPolicy q = read(R"({"rewritePrefix": "/v2/"})");
    CPPUNIT_ASSERT_THROW(q.read(*json(R"({"stripPrefix": false})")), InvalidInput);
  }

  void testStoredFormRoundTrips() {
    RoutePolicies policies;
    portico::readRoutePolicies(*json(R"({"stripPrefix": false, "preserveHost": false,
                  "requestHeaders": {"set": {"X-Env": "prod"}, "add": {"X-Tag": "a"}},
                  "responseHeaders": {"remove": ["Server"], "set": {"X-Served-By": "p"}},
                  "timeouts": {"read": "1500ms"}, "maxBodySize": "1536KiB"})"),
                               policies);
    const std::string stored = portico::storedPolicies(policies);
    CPPUNIT_ASSERT_MESSAGE(stored, stored.find("\"maxBodySize\":\"1536KiB\"") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(stored, stored.find("\"read\":\"1500ms\"") != std::string::npos);
    CPPUNIT_ASSERT(portico::parseStoredPolicies(stored) == policies);
    CPPUNIT_ASSERT(portico::parseStoredPolicies(portico::storedPolicies({})) == RoutePolicies{});
    CPPUNIT_ASSERT_THROW(portico::parseStoredPolicies(R"({"timeouts": {"read": "x"}})"),
                         InvalidInput);
  }

  void testByteSizes() {
    struct Row {
      const char* text;
      std::uint64_t bytes;
      const char* shown;
    };
    const Row rows[] = {{"0", 0, "0B"},
                        {"1500", 1500, "1500B"},
                        {"1500B", 1500, "1500B"},
                        {"1KiB", 1024, "1KiB"},
                        {"10MiB", 10485760, "10MiB"},
                        {"10m", 10485760, "10MiB"},
                        {"2G", 2147483648ULL, "2GiB"},
                        {"1536KiB", 1572864, "1536KiB"},
                        {"1024GiB", 1099511627776ULL, "1024GiB"}};
    for (const auto& r : rows) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.text, r.bytes, portico::parseByteSize(r.text));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.text, std::string(r.shown), portico::formatByteSize(r.bytes));
    }
    for (const char* bad :
         {"", "MiB", "10 MiB", "10TiB", "-1", "1.5MiB", "1025GiB", "99999999999999999999999"})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, portico::parseByteSize(bad), InvalidInput);
  }

  void testConfigurationKeys() {
    const Settings s = load({{"route.api.prefix", "/api/"},
                             {"route.api.targets", "http://127.0.0.1:1"},
                             {"route.api.rewrite_prefix", "/v2/"},
                             {"route.api.preserve_host", "off"},
                             {"route.api.request_headers.set.X-Env", "prod"},
                             {"route.api.request_headers.add.X-Tag", "a"},
                             {"route.api.request_headers.remove", "X-Debug, X-Trace"},
                             {"route.api.response_headers.remove", "Server"},
                             {"route.api.response_headers.set.X-Served-By", "portico"},
                             {"route.api.read_timeout", "1500ms"},
                             {"route.api.connect_timeout", "1s"},
                             {"route.api.send_timeout", "5s"},
                             {"route.api.max_body_size", "10MiB"},
                             {"route.plain.prefix", "/plain/"},
                             {"route.plain.strip_prefix", "false"}});
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, s.routes.size());
    const auto& api = s.routes[0].spec.prefix == "/api/" ? s.routes[0] : s.routes[1];
    const auto& plain = s.routes[0].spec.prefix == "/api/" ? s.routes[1] : s.routes[0];
    const RequestPolicy& p = api.spec.policies.request;
    CPPUNIT_ASSERT_EQUAL(std::string("/v2/"), p.rewritePrefix);
    CPPUNIT_ASSERT(!p.preserveHost);
    CPPUNIT_ASSERT_EQUAL(std::string("X-Env"), p.requestHeaders.set.at(0).first);
    CPPUNIT_ASSERT_EQUAL(std::string("prod"), p.requestHeaders.set.at(0).second);
    CPPUNIT_ASSERT_EQUAL(std::string("X-Tag"), p.requestHeaders.add.at(0).first);
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, p.requestHeaders.remove.size());
    CPPUNIT_ASSERT_EQUAL(std::string("Server"), p.responseHeaders.remove.at(0));
    CPPUNIT_ASSERT_EQUAL(std::string("X-Served-By"), p.responseHeaders.set.at(0).first);
    CPPUNIT_ASSERT_EQUAL(1500L, static_cast<long>(p.timeouts.read.count()));
    CPPUNIT_ASSERT_EQUAL(1000L, static_cast<long>(p.timeouts.connect.count()));
    CPPUNIT_ASSERT_EQUAL(5000L, static_cast<long>(p.timeouts.send.count()));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t{10485760}, p.maxBodySize);
    CPPUNIT_ASSERT(!plain.spec.policies.request.stripPrefix);
    CPPUNIT_ASSERT(plain.spec.policies.request.preserveHost);
    CPPUNIT_ASSERT(plain.spec.policies != RoutePolicies{});
  }

  void testConfigurationKeysRefused() {
    using Map = std::map<std::string, std::string>;
    const Map base = {{"route.a.prefix", "/a/"}};
    struct Row {
      const char* key;
      const char* value;
      const char* named;  // the key the error names
    };
    const Row rows[] = {
        {"route.a.strip_prefix", "maybe", "route.a.strip_prefix"},
        {"route.a.preserve_host", "2", "route.a.preserve_host"},
        {"route.a.rewrite_prefix", "/a/../b", "route.a.rewrite_prefix"},
        {"route.a.request_headers.set.Connection", "close", "route.a.request_headers"},
        {"route.a.request_headers.remove", "Host", "route.a.request_headers"},
        {"route.a.response_headers.add.Content-Length", "1", "route.a.response_headers"},
        {"route.a.request_headers.replace.X-A", "1", "route.a.request_headers.replace"},
        {"route.a.read_timeout", "soon", "route.a.read_timeout"},
        {"route.a.connect_timeout", "0ms", "route.a.connect_timeout"},
        {"route.a.max_body_size", "lots", "route.a.max_body_size"},
        {"route.a.max_size", "1MiB", "route.a.max_size"},
    };
    for (const auto& r : rows) {
      Map kv = base;
      kv[r.key] = r.value;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.key, std::string(r.named), failingKey(kv));
    }
    Map both = base;
    both["route.a.strip_prefix"] = "false";
    both["route.a.rewrite_prefix"] = "/v2/";
    CPPUNIT_ASSERT_EQUAL(std::string("route.a.rewrite_prefix"), failingKey(both));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestPolicyTest);
