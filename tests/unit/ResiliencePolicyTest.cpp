#include <Poco/AutoPtr.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <string>

#include "base/Errors.h"
#include "config/Settings.h"
#include "forward/ForwardingPolicy.h"
#include "model/ModelJson.h"
#include "model/RoutePolicies.h"
#include "routing/RouteTable.h"

using portico::ConfigError;
using portico::ForwardingPolicy;
using portico::InvalidInput;
using portico::PickStates;
using portico::ProxyContext;
using portico::ResiliencePolicy;
using portico::Route;
using portico::RoutePolicies;
using portico::RouteRecord;
using portico::RouteTable;
using portico::TargetRecord;
using portico::TargetState;
using portico::TrustedProxies;
using portico::UpstreamTimeouts;
using portico::http::HttpHead;

namespace {

Poco::JSON::Object::Ptr json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

/// The 400 message `body` gets, or "" when it reads.
std::string refusal(const std::string& body) {
  RoutePolicies p;
  try {
    portico::readRoutePolicies(*json(body), p);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

RouteRecord record(const std::string& body, std::vector<int> maxConnections = {0, 0}) {
  RouteRecord r;
  r.prefix = "/p/";
  portico::readRoutePolicies(*json(body), r.policies);
  for (std::size_t i = 0; i < maxConnections.size(); ++i) {
    TargetRecord t;
    t.id = static_cast<std::int64_t>(i + 1);
    t.url = "http://10.0.0." + std::to_string(i + 1) + ":80";
    t.maxConnections = maxConnections[i];
    r.targets.push_back(t);
  }
  return r;
}

HttpHead request(const char* method) {
  HttpHead h;
  h.setMethod(h.own(method));
  h.setTarget(h.own("/p/x"));
  h.setVersion(1, 1);
  h.addOwned("Host", "example");
  return h;
}

}  // namespace

/// The resilience fields of a route (retries, outlierDetection, maxRequests, rateLimit): how
/// they read, refuse and write, their configuration keys, and the decisions ForwardingPolicy
/// takes with them (admission, limits, which failures are retried).
class ResiliencePolicyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ResiliencePolicyTest);
  CPPUNIT_TEST(testDefaultsAreOffAndWritten);
  CPPUNIT_TEST(testReadsAndRoundTrips);
  CPPUNIT_TEST(testRefusalsNameTheField);
  CPPUNIT_TEST(testConfigurationKeys);
  CPPUNIT_TEST(testMaxRequestsAdmission);
  CPPUNIT_TEST(testTargetLimitSkipsAndOverflows);
  CPPUNIT_TEST(testRetryDecisions);
  CPPUNIT_TEST(testRateLimitAnswerAndHeaders);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    context_ = std::make_unique<ProxyContext>(
        ProxyContext{UpstreamTimeouts{}, TrustedProxies({}), nullptr, nullptr});
  }
  void tearDown() override { context_.reset(); }

  void testDefaultsAreOffAndWritten() {
    const ResiliencePolicy p;
    CPPUNIT_ASSERT(!p.retries.enabled() && !p.outlier.enabled() && !p.rateLimit.enabled());
    CPPUNIT_ASSERT_EQUAL(0, p.maxRequests);
    auto out = portico::jsonObject();
    p.write(*out);
    CPPUNIT_ASSERT_EQUAL(
        std::string("{\"retries\":{\"attempts\":0,\"on\":[\"connect-failure\",\"reset\","
                    "\"timeout\",\"502\",\"503\",\"504\"],\"perTryTimeout\":\"0ms\","
                    "\"budgetPercent\":20,\"nonIdempotent\":false},\"outlierDetection\":"
                    "{\"consecutiveErrors\":0,\"errors\":\"gateway\",\"baseEjectionTime\":\"30s\","
                    "\"maxEjectionPercent\":50},\"maxRequests\":0,\"rateLimit\":"
                    "{\"requestsPerSecond\":0,\"burst\":0,\"by\":\"client\"}}"),
        portico::toJsonText(out));
  }

  void testReadsAndRoundTrips() {
    RoutePolicies p;
    portico::readRoutePolicies(
        *json(R"({"retries":{"attempts":2,"on":["503","reset"],"perTryTimeout":"2s",
                  "budgetPercent":25,"nonIdempotent":true},
                  "outlierDetection":{"consecutiveErrors":5,"errors":"5xx",
                  "baseEjectionTime":"10s","maxEjectionPercent":30},
                  "maxRequests":100,"rateLimit":{"requestsPerSecond":10,"burst":5,"by":"route"}})"),
        p);
    const ResiliencePolicy& r = p.resilience;
    CPPUNIT_ASSERT_EQUAL(2, r.retries.attempts);
    CPPUNIT_ASSERT_EQUAL(unsigned{portico::kRetry503 | portico::kRetryReset}, r.retries.on);
    CPPUNIT_ASSERT_EQUAL(2000L, static_cast<long>(r.retries.perTryTimeout.count()));
    CPPUNIT_ASSERT(r.retries.nonIdempotent && r.outlier.anyServerError && !r.rateLimit.byClient);
    CPPUNIT_ASSERT_EQUAL(100, r.maxRequests);
    // A partial change keeps the other fields.
    portico::readRoutePolicies(*json(R"({"retries":{"attempts":1}})"), p);
    CPPUNIT_ASSERT_EQUAL(1, p.resilience.retries.attempts);
    CPPUNIT_ASSERT_EQUAL(25, p.resilience.retries.budgetPercent);
    // Stored and read back the same.
    CPPUNIT_ASSERT(portico::parseStoredPolicies(portico::storedPolicies(p)) == p);
    CPPUNIT_ASSERT(!(p == RoutePolicies()));
  }

  void testRefusalsNameTheField() {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"retries":{"attempts":6}})",
         "invalid field 'retries.attempts': must be between 0 and 5"},
        {R"({"retries":{"on":["teapot"]}})",
         "invalid field 'retries.on': unknown reason 'teapot' (connect-failure, reset, timeout, "
         "502, 503 or 504)"},
        {R"({"retries":{"perTryTimeout":"soon"}})", "invalid field 'retries.perTryTimeout'"},
        {R"({"retries":{"budgetPercent":0}})",
         "invalid field 'retries.budgetPercent': must be between 1 and 100"},
        {R"({"retries":{"tries":1}})", "unknown field 'retries.tries'"},
        {R"({"retries":3})", "invalid field 'retries': must be an object"},
        {R"({"outlierDetection":{"errors":"4xx"}})",
         "invalid field 'outlierDetection.errors': must be \"gateway\" or \"5xx\""},
        {R"({"outlierDetection":{"baseEjectionTime":"500ms"}})",
         "invalid field 'outlierDetection.baseEjectionTime': must be between 1s and 300s"},
        {R"({"outlierDetection":{"maxEjectionPercent":101}})",
         "invalid field 'outlierDetection.maxEjectionPercent': must be between 0 and 100"},
        {R"({"maxRequests":-1})", "invalid field 'maxRequests': must be between 0 and 1000000"},
        {R"({"rateLimit":{"by":"header"}})",
         "invalid field 'rateLimit.by': must be \"client\" or \"route\""},
        {R"({"rateLimit":{"requestsPerSecond":"ten"}})",
         "invalid field 'rateLimit.requestsPerSecond': must be an integer"},
    };
    for (const auto& [body, message] : cases) {
      const std::string got = refusal(body);
      CPPUNIT_ASSERT_MESSAGE(std::string(body) + " gave: " + got, got.rfind(message, 0) == 0);
    }
  }

  void testConfigurationKeys() {
    auto c = Poco::makeAuto<Poco::Util::MapConfiguration>();
    c->setString("route.api.prefix", "/api/");
    c->setString("route.api.targets", "http://localhost:8081");
    c->setString("route.api.retries.attempts", "2");
    c->setString("route.api.retries.on", "503, timeout");
    c->setString("route.api.retries.non_idempotent", "yes");
    c->setString("route.api.outlier_detection.consecutive_errors", "5");
    c->setString("route.api.outlier_detection.base_ejection_time", "10s");
    c->setString("route.api.max_requests", "50");
    c->setString("route.api.rate_limit.requests_per_second", "100");
    c->setString("route.api.rate_limit.by", "route");
    const auto s = portico::Settings::load(*c);
    const ResiliencePolicy& r = s.routes.at(0).spec.policies.resilience;
    CPPUNIT_ASSERT_EQUAL(2, r.retries.attempts);
    CPPUNIT_ASSERT_EQUAL(unsigned{portico::kRetry503 | portico::kRetryTimeout}, r.retries.on);
    CPPUNIT_ASSERT(r.retries.nonIdempotent);
    CPPUNIT_ASSERT_EQUAL(5, r.outlier.consecutiveErrors);
    CPPUNIT_ASSERT_EQUAL(10000L, static_cast<long>(r.outlier.baseEjectionTime.count()));
    CPPUNIT_ASSERT_EQUAL(50, r.maxRequests);
    CPPUNIT_ASSERT_EQUAL(100, r.rateLimit.requestsPerSecond);
    CPPUNIT_ASSERT(!r.rateLimit.byClient);
    CPPUNIT_ASSERT_EQUAL(65536, s.proxy.retryBuffer);
    // Each refusal names its key.
    const std::pair<const char*, const char*> bad[] = {
        {"route.api.retries.attempts", "9"}, {"route.api.retries.on", "sometimes"},
        {"route.api.rate_limit.by", "moon"}, {"route.api.retries.tries", "1"},
        {"route.api.max_requests", "many"},
    };
    for (const auto& [key, value] : bad) {
      auto b = Poco::makeAuto<Poco::Util::MapConfiguration>();
      b->setString("route.api.prefix", "/api/");
      b->setString(key, value);
      try {
        portico::Settings::load(*b);
        CPPUNIT_FAIL(std::string(key) + " = " + value + " was accepted");
      } catch (const ConfigError& e) {
        CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find(key) != std::string::npos);
      }
    }
  }

  void testMaxRequestsAdmission() {
    const auto table = RouteTable::build({record(R"({"maxRequests":2})")}, nullptr, 1);
    const Route& r = *table->find("/p/");
    const HttpHead head = request("GET");
    auto one = std::make_unique<ForwardingPolicy>(*context_, r, head, "", "10.0.0.9", false, false);
    ForwardingPolicy two(*context_, r, head, "", "10.0.0.9", false, false);
    ForwardingPolicy three(*context_, r, head, "", "10.0.0.9", false, false);
    CPPUNIT_ASSERT_EQUAL(0, one->admit(0).status);
    CPPUNIT_ASSERT_EQUAL(0, two.admit(0).status);
    const auto refused = three.admit(0);
    CPPUNIT_ASSERT_EQUAL(503, refused.status);
    CPPUNIT_ASSERT_EQUAL(std::string("route /p/ is at its limit of 2 requests in flight"),
                         refused.message);
    one.reset();  // a request ends: its place is free again
    ForwardingPolicy four(*context_, r, head, "", "10.0.0.9", false, false);
    CPPUNIT_ASSERT_EQUAL(0, four.admit(0).status);
    CPPUNIT_ASSERT_EQUAL(2, r.state->inFlight.load());
  }

  void testTargetLimitSkipsAndOverflows() {
    const auto table = RouteTable::build({record("{}", {1, 1})}, nullptr, 1);
    const Route& r = *table->find("/p/");
    const HttpHead head = request("GET");
    PickStates picks(0);
    ForwardingPolicy a(*context_, r, head, "", "10.0.0.9", false, false);
    ForwardingPolicy b(*context_, r, head, "", "10.0.0.9", false, false);
    ForwardingPolicy c(*context_, r, head, "", "10.0.0.9", false, false);
    TargetState* first = a.nextTarget(picks, 0);
    TargetState* second = b.nextTarget(picks, 0);
    CPPUNIT_ASSERT(first && second && first != second);  // the one at its limit is skipped
    CPPUNIT_ASSERT(!c.nextTarget(picks, 0));
    const auto answer = c.exhausted();
    CPPUNIT_ASSERT_EQUAL(503, answer.status);
    CPPUNIT_ASSERT_EQUAL(std::string("route /p/ is at its limit of 2 requests in flight"),
                         answer.message);
    a.release();
    CPPUNIT_ASSERT(c.nextTarget(picks, 0) == first);
  }

  void testRetryDecisions() {
    const auto table = RouteTable::build(
        {record(R"({"retries":{"attempts":1,"on":["503","reset"]}})", {0, 0, 0})}, nullptr, 1);
    const Route& r = *table->find("/p/");
    PickStates picks(0);
    const HttpHead get = request("GET");
    const HttpHead post = request("POST");
    struct Case {
      const HttpHead& head;
      portico::RetryReason reason;
      bool retried;
    };
    const Case cases[] = {
        {get, portico::kRetry503, true},      {get, portico::kRetryReset, true},
        {get, portico::kRetry502, false},  // not listed in `on`
        {get, portico::kRetryTimeout, false}, {post, portico::kRetry503, false},  // not idempotent
    };
    for (const auto& c : cases) {
      ForwardingPolicy p(*context_, r, c.head, "", "10.0.0.9", false, false);
      CPPUNIT_ASSERT_EQUAL(0, p.admit(0).status);
      CPPUNIT_ASSERT(p.nextTarget(picks, 0));
      CPPUNIT_ASSERT_EQUAL(c.retried, p.retryOn(c.reason, true));
      if (c.retried) CPPUNIT_ASSERT(!p.retryOn(c.reason, true));  // one attempt only
    }
    CPPUNIT_ASSERT_EQUAL(0, r.state->retriesInFlight.load());
    CPPUNIT_ASSERT_EQUAL(0, r.state->inFlight.load());
  }

  void testRateLimitAnswerAndHeaders() {
    const auto table = RouteTable::build(
        {record(R"({"rateLimit":{"requestsPerSecond":10,"burst":1,"by":"client"}})")}, nullptr, 1);
    const Route& r = *table->find("/p/");
    const HttpHead head = request("GET");
    for (int i = 0; i < 2; ++i) {
      ForwardingPolicy p(*context_, r, head, "", "10.0.0.9", false, false);
      CPPUNIT_ASSERT_EQUAL(0, p.admit(1000000).status);
      CPPUNIT_ASSERT_EQUAL(std::string("RateLimit-Limit: 10\r\nRateLimit-Remaining: ") +
                               (i == 0 ? "1" : "0") + "\r\nRateLimit-Reset: 1\r\n",
                           p.answerHeaders());
    }
    ForwardingPolicy over(*context_, r, head, "", "10.0.0.9", false, false);
    const auto refused = over.admit(1000000);
    CPPUNIT_ASSERT_EQUAL(429, refused.status);
    CPPUNIT_ASSERT_EQUAL(std::string("rate limit of 10 requests/s exceeded for route /p/"),
                         refused.message);
    CPPUNIT_ASSERT(refused.headers.find("Retry-After: 1\r\n") != std::string::npos);
    // Another client has its own bucket.
    ForwardingPolicy other(*context_, r, head, "", "10.0.0.10", false, false);
    CPPUNIT_ASSERT_EQUAL(0, other.admit(1000000).status);
  }

 private:
  std::unique_ptr<ProxyContext> context_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ResiliencePolicyTest);
