#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "balance/PickState.h"
#include "forward/ForwardingPolicy.h"
#include "http/HttpHead.h"
#include "routing/RequestRules.h"
#include "routing/RoutePath.h"
#include "routing/RouteTable.h"

using portico::ForwardingPolicy;
using portico::PickStates;
using portico::ProxyContext;
using portico::RequestPolicy;
using portico::RequestRules;
using portico::Route;
using portico::RoutePath;
using portico::RouteRecord;
using portico::RouteTable;
using portico::TargetRecord;
using portico::TrustedProxies;
using portico::UpstreamTimeouts;
using portico::http::HttpHead;

namespace {

RequestPolicy policyOf(const std::string& body) {
  RequestPolicy p;
  p.read(*Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>());
  return p;
}

RouteRecord record(const std::string& prefix, const std::string& url, const std::string& body) {
  RouteRecord r;
  r.prefix = prefix;
  r.policies.request = policyOf(body);
  TargetRecord t;
  t.id = 1;
  t.url = url;
  r.targets.push_back(t);
  return r;
}

HttpHead request(const char* target, bool withHost = true) {
  HttpHead h;
  h.setMethod(h.own("GET"));
  h.setTarget(h.own(target));
  h.setVersion(1, 1);
  if (withHost) h.addOwned("Host", "client.example");
  h.addOwned("X-Debug", "1");
  h.addOwned("x-env", "dev");
  h.addOwned("Accept", "*/*");
  return h;
}

HttpHead response() {
  HttpHead h;
  h.setStatus(200);
  h.setReason(h.own("OK"));
  h.setVersion(1, 1);
  h.addOwned("Server", "target");
  h.addOwned("X-Powered-By", "php");
  h.addOwned("Content-Length", "0");
  return h;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

/// RequestRules: a route's RequestPolicy as the request path applies it. The upstream path for
/// each of stripPrefix / rewritePrefix, the Host rule, the header edits in both directions
/// (HTTP/1.1 text and the pairs HTTP/2 and the module get), the body limit, the timeouts.
class RequestRulesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RequestRulesTest);
  CPPUNIT_TEST(testUpstreamPaths);
  CPPUNIT_TEST(testUpstreamHeadWithPolicies);
  CPPUNIT_TEST(testDefaultHeadUnchanged);
  CPPUNIT_TEST(testResponseHeaderEdits);
  CPPUNIT_TEST(testBodyLimitAndTimeouts);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    context_ = std::make_unique<ProxyContext>(
        ProxyContext{UpstreamTimeouts{}, TrustedProxies({}), nullptr, nullptr});
  }
  void tearDown() override { context_.reset(); }

  void testUpstreamPaths() {
    struct Row {
      const char* policy;
      const char* prefix;
      const char* base;
      const char* target;
      const char* expected;
    };
    const Row rows[] = {
        // stripPrefix true (the default): today's behaviour.
        {"{}", "/api/", "", "/api/x?q=1", "/x?q=1"},
        {"{}", "/api/", "", "/api", "/"},
        {"{}", "/api/", "", "/api?q", "/?q"},
        {"{}", "/api/", "/base", "/api/x", "/base/x"},
        {"{}", "/", "", "/x", "/x"},
        // stripPrefix false: the whole path.
        {R"({"stripPrefix": false})", "/api/", "", "/api/x?q=1", "/api/x?q=1"},
        {R"({"stripPrefix": false})", "/api/", "", "/api", "/api"},
        {R"({"stripPrefix": false})", "/api/", "", "/api?q", "/api?q"},
        {R"({"stripPrefix": false})", "/api/", "/base", "/api/x", "/base/api/x"},
        {R"({"stripPrefix": false})", "/", "", "/x", "/x"},
        {R"({"stripPrefix": false})", "/api/", "", "http://h/api/x", "/api/x"},
        // rewritePrefix: the matched prefix replaced.
        {R"({"rewritePrefix": "/v2/"})", "/api/", "", "/api/x?q=1", "/v2/x?q=1"},
        {R"({"rewritePrefix": "/v2/"})", "/api/", "", "/api", "/v2"},
        {R"({"rewritePrefix": "/v2/"})", "/api/", "", "/api/", "/v2/"},
        {R"({"rewritePrefix": "v2/inner"})", "/api/", "/base", "/api/x", "/base/v2/inner/x"},
        {R"({"rewritePrefix": "/v2/"})", "/", "", "/x", "/v2/x"},
        {R"({"rewritePrefix": "/"})", "/api/", "", "/api/x", "/x"},
    };
    for (const auto& r : rows) {
      const RequestRules rules = RequestRules::of(policyOf(r.policy), r.prefix);
      std::string out;
      RoutePath::appendUpstreamTarget(out, r.target, r.prefix, r.base, rules.replacement);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(r.policy) + " " + r.prefix + " " + r.target,
                                   std::string(r.expected), out);
    }
  }

  void testUpstreamHeadWithPolicies() {
    const auto table = RouteTable::build({record("/api/", "http://backend:8081",
                                                 R"({"rewritePrefix": "/v2/", "preserveHost": false,
                    "requestHeaders": {"set": {"X-Env": "prod"}, "add": {"X-Tag": "a"},
                                       "remove": ["x-debug"]}})")},
                                         nullptr, 1);
    const std::string head = upstreamHead(*table->find("/api/"), request("/api/users?id=7"));
    CPPUNIT_ASSERT_MESSAGE(head, head.rfind("GET /v2/users?id=7 HTTP/1.1\r\n", 0) == 0);
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nHost: backend:8081\r\n"));
    CPPUNIT_ASSERT_MESSAGE(head, !contains(head, "\r\nHost: client.example\r\n"));
    // The client's host is still told to the target.
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nX-Forwarded-Host: client.example\r\n"));
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nX-Env: prod\r\n"));
    CPPUNIT_ASSERT_MESSAGE(head, !contains(head, "x-env: dev"));
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nX-Tag: a\r\n"));
    CPPUNIT_ASSERT_MESSAGE(head, !contains(head, "X-Debug"));
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nAccept: */*\r\n"));
    // Host appears once, whether or not the client sent one.
    const std::string noHost = upstreamHead(*table->find("/api/"), request("/api/users", false));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(noHost, noHost.find("\r\nHost: backend:8081\r\n"),
                                 noHost.rfind("\r\nHost: "));
  }

  void testDefaultHeadUnchanged() {
    const auto table =
        RouteTable::build({record("/api/", "http://backend:8081", "{}")}, nullptr, 1);
    const std::string head = upstreamHead(*table->find("/api/"), request("/api/users"));
    CPPUNIT_ASSERT_MESSAGE(head, head.rfind("GET /users HTTP/1.1\r\n", 0) == 0);
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nHost: client.example\r\n"));
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nX-Debug: 1\r\n"));
    CPPUNIT_ASSERT_MESSAGE(head, contains(head, "\r\nx-env: dev\r\n"));
  }

  void testResponseHeaderEdits() {
    const auto table =
        RouteTable::build({record("/api/", "http://backend:8081",
                                  R"({"responseHeaders": {"remove": ["Server", "x-powered-by"],
                                        "set": {"X-Served-By": "portico"},
                                        "add": {"Cache-Control": "no-store"}}})")},
                          nullptr, 1);
    const Route& route = *table->find("/api/");
    const HttpHead req = request("/api/x");
    ForwardingPolicy policy(*context_, route, req, "", "10.0.0.9", false, false);
    const HttpHead up = response();
    const auto plan = policy.planResponse(up);
    std::string http1;
    policy.writeResponseHead(up, plan, true, http1);
    CPPUNIT_ASSERT_MESSAGE(http1, !contains(http1, "Server:"));  // the target's nor the proxy's
    CPPUNIT_ASSERT_MESSAGE(http1, !contains(http1, "X-Powered-By"));
    CPPUNIT_ASSERT_MESSAGE(http1, contains(http1, "\r\nX-Served-By: portico\r\n"));
    CPPUNIT_ASSERT_MESSAGE(http1, contains(http1, "\r\nCache-Control: no-store\r\n"));
    CPPUNIT_ASSERT_MESSAGE(http1, contains(http1, "\r\nContent-Length: 0\r\n"));
    // The same list for HTTP/2 and the module.
    std::vector<std::string> names;
    policy.forEachResponseHeader(
        up, [&](std::string_view name, std::string_view) { names.emplace_back(name); });
    CPPUNIT_ASSERT_EQUAL(std::size_t{2}, names.size());
    CPPUNIT_ASSERT_EQUAL(std::string("X-Served-By"), names[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("Cache-Control"), names[1]);
  }

  void testBodyLimitAndTimeouts() {
    const auto table =
        RouteTable::build({record("/small/", "http://backend:8081",
                                  R"({"maxBodySize": "1KiB", "timeouts": {"read": "1500ms"}})"),
                           record("/any/", "http://backend:8081", "{}")},
                          nullptr, 1);
    const HttpHead req = request("/small/x");
    const ForwardingPolicy small(*context_, *table->find("/small/"), req, "", "10.0.0.9", false,
                                 false);
    CPPUNIT_ASSERT(!small.bodyTooLarge(1024));
    CPPUNIT_ASSERT(small.bodyTooLarge(1025));
    CPPUNIT_ASSERT_EQUAL(413, small.tooLarge().status);
    CPPUNIT_ASSERT_EQUAL(
        std::string("request body larger than 1KiB (maxBodySize of route /small/)"),
        small.tooLarge().message);
    CPPUNIT_ASSERT_EQUAL(1500L, static_cast<long>(small.readTimeout().count()));
    CPPUNIT_ASSERT_EQUAL(context_->timeouts.connect.count(), small.connectTimeout().count());
    const ForwardingPolicy any(*context_, *table->find("/any/"), req, "", "10.0.0.9", false, false);
    CPPUNIT_ASSERT(!any.bodyTooLarge(std::uint64_t{1} << 40));
    CPPUNIT_ASSERT_EQUAL(context_->timeouts.read.count(), any.readTimeout().count());
  }

 private:
  std::string upstreamHead(const Route& route, const HttpHead& req) {
    ForwardingPolicy policy(*context_, route, req, "", "10.0.0.9", false, false);
    PickStates picks(0);
    CPPUNIT_ASSERT(policy.nextTarget(picks, 0));
    std::string out;
    policy.writeUpstreamHead(out);
    return out;
  }

  std::unique_ptr<ProxyContext> context_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestRulesTest);
