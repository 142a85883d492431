#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "balance/TargetState.h"
#include "forward/RequestContext.h"
#include "http/HttpHead.h"
#include "routing/RouteTable.h"

using portico::AccessRecord;
using portico::RequestContext;
using portico::RequestIdGenerator;
using portico::Route;
using portico::RouteRecord;
using portico::RouteTable;
using portico::TargetRecord;
using portico::http::HttpHead;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const RouteTable> table() {
  RouteRecord r;
  r.prefix = "/api/";
  TargetRecord t;
  t.id = 1;
  t.url = "http://10.0.0.2:8081";
  r.targets.push_back(t);
  return RouteTable::build({r}, nullptr, 1);
}

HttpHead request(const std::string& id = "") {
  HttpHead h;
  h.setMethod(h.own("POST"));
  h.setTarget(h.own("/api/users?id=1"));
  h.setVersion(1, 1);
  h.addOwned("Referer", "https://example.com/");
  h.addOwned("User-Agent", "curl/7.88.1");
  if (!id.empty()) h.addOwned("X-Request-Id", id);
  return h;
}

}  // namespace

/// One request's record and the access-log fields read from it: what a forwarded request, an
/// answer of the proxy's own and a request that never parsed each log.
class RequestContextTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RequestContextTest);
  CPPUNIT_TEST(testForwardedRequest);
  CPPUNIT_TEST(testProxyAnswerBeforeRouting);
  CPPUNIT_TEST(testNothingParsed);
  CPPUNIT_TEST(testClientGoneAndExhaustedTargets);
  CPPUNIT_TEST(testBeginForgetsThePreviousRequest);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testForwardedRequest() {
    const auto routes = table();
    const Route& route = *routes->find("/api/");
    const HttpHead head = request();
    const auto t0 = RequestContext::Clock::time_point(1s);
    RequestContext c;
    c.begin(t0, "10.0.0.7", "HTTP/1.1");
    c.headParsed(head);
    c.routed(route);
    c.requestId("7f3c0e6b2a8d4f1e9c5b3a2d1e0f4c6b");
    c.targetChosen(route.candidates()[0].target.get());
    c.bodyReceived(10);
    c.bodyReceived(5);
    c.responseHeadArrived(t0 + 11ms);
    c.targetAnswered(201);
    c.bodySent(500);
    c.bodySent(12);
    CPPUNIT_ASSERT(c.answeredBy() == RequestContext::Answerer::Target);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), c.attempts());
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(15), c.bytesIn());

    char generated[RequestIdGenerator::kLength];
    RequestIdGenerator ids(42);
    const AccessRecord r = c.record(t0 + 12500us, generated, ids);
    CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.7"), std::string(r.client));
    CPPUNIT_ASSERT_EQUAL(std::string("POST"), std::string(r.method));
    CPPUNIT_ASSERT_EQUAL(std::string("/api/users?id=1"), std::string(r.target));
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1"), std::string(r.protocol));
    CPPUNIT_ASSERT_EQUAL(std::string("/api/"), std::string(r.route));
    CPPUNIT_ASSERT_EQUAL(std::string("http://10.0.0.2:8081"), std::string(r.upstream));
    CPPUNIT_ASSERT_EQUAL(std::string("7f3c0e6b2a8d4f1e9c5b3a2d1e0f4c6b"), std::string(r.requestId));
    CPPUNIT_ASSERT_EQUAL(std::string("https://example.com/"), std::string(r.referer));
    CPPUNIT_ASSERT_EQUAL(std::string("curl/7.88.1"), std::string(r.userAgent));
    CPPUNIT_ASSERT_EQUAL(201, r.status);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(512), r.bytes);
    CPPUNIT_ASSERT_DOUBLES_EQUAL(12.5, r.durationMs, 1e-9);
    CPPUNIT_ASSERT_DOUBLES_EQUAL(11.0, r.upstreamMs, 1e-9);
  }

  void testProxyAnswerBeforeRouting() {
    // No route: the log names none, keeps the client's acceptable id, counts the JSON body.
    const HttpHead head = request("client-id-1");
    const auto t0 = RequestContext::Clock::time_point(1s);
    RequestContext c;
    c.begin(t0, "10.0.0.7", "HTTP/1.1");
    c.headParsed(head);
    c.protocol("HTTP/1.0");
    c.proxyAnswered(404, 23);
    CPPUNIT_ASSERT(c.answeredBy() == RequestContext::Answerer::Proxy);
    char generated[RequestIdGenerator::kLength];
    RequestIdGenerator ids(42);
    const AccessRecord r = c.record(t0, generated, ids);
    CPPUNIT_ASSERT_EQUAL(std::string("-"), std::string(r.route));
    CPPUNIT_ASSERT_EQUAL(std::string("-"), std::string(r.upstream));
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.0"), std::string(r.protocol));
    CPPUNIT_ASSERT_EQUAL(std::string("client-id-1"), std::string(r.requestId));
    CPPUNIT_ASSERT_EQUAL(404, r.status);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(23), r.bytes);
    CPPUNIT_ASSERT(r.upstreamMs < 0);
  }

  void testNothingParsed() {
    // A head that never parsed (400, 408): dashes, and an id of the generator's.
    const auto t0 = RequestContext::Clock::time_point(1s);
    RequestContext c;
    c.begin(t0, "10.0.0.7", "HTTP/1.1");
    c.proxyAnswered(400, 40);
    char generated[RequestIdGenerator::kLength];
    RequestIdGenerator ids(42);
    char expected[RequestIdGenerator::kLength];
    const std::string id(RequestIdGenerator(42).next(expected));
    const AccessRecord r = c.record(t0, generated, ids);
    CPPUNIT_ASSERT_EQUAL(std::string("-"), std::string(r.method));
    CPPUNIT_ASSERT_EQUAL(std::string("-"), std::string(r.target));
    CPPUNIT_ASSERT_EQUAL(std::string("-"), std::string(r.protocol));
    CPPUNIT_ASSERT(r.referer.empty() && r.userAgent.empty());
    CPPUNIT_ASSERT_EQUAL(id, std::string(r.requestId));
    CPPUNIT_ASSERT_EQUAL(400, r.status);
  }

  void testClientGoneAndExhaustedTargets() {
    const auto routes = table();
    const Route& route = *routes->find("/api/");
    RequestContext c;
    c.begin(RequestContext::Clock::time_point(1s), "10.0.0.7", "HTTP/1.1");
    c.routed(route);
    c.targetChosen(route.candidates()[0].target.get());
    c.targetChosen(nullptr);  // nothing left to try: the policy holds no target any more
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), c.attempts());
    CPPUNIT_ASSERT(!c.target());
    c.clientGone();
    CPPUNIT_ASSERT_EQUAL(RequestContext::kClientClosed, c.status());
    CPPUNIT_ASSERT(c.answeredBy() == RequestContext::Answerer::Nobody);
  }

  void testBeginForgetsThePreviousRequest() {
    const auto routes = table();
    const HttpHead head = request();
    RequestContext c;
    c.begin(RequestContext::Clock::time_point(1s), "10.0.0.7", "HTTP/1.1");
    c.headParsed(head);
    c.routed(*routes->find("/api/"));
    c.requestId("abc");
    c.targetAnswered(200);
    c.bodySent(10);
    c.begin(RequestContext::Clock::time_point(2s), "10.0.0.8", "HTTP/1.1");
    CPPUNIT_ASSERT(!c.head() && !c.route() && !c.target());
    CPPUNIT_ASSERT(c.requestId().empty());
    CPPUNIT_ASSERT_EQUAL(0, c.status());
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.bytesOut());
    CPPUNIT_ASSERT(c.answeredBy() == RequestContext::Answerer::Nobody);
    CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.8"), std::string(c.peer()));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestContextTest);
