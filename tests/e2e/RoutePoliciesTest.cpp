#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "e2e/ProxyTestHarness.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;

namespace {

using Clock = std::chrono::steady_clock;

long elapsedMs(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

/// The value of response header `name` (lower-case) on HTTP/2 stream `id`, "" when absent.
std::string h2Header(const Http2TestClient& h2, std::int32_t id, const std::string& name) {
  const auto it = h2.headers_.find(id);
  if (it == h2.headers_.end()) return "";
  for (const auto& [n, v] : it->second) {
    if (n == name) return v;
  }
  return "";
}

bool h2HasHeader(const Http2TestClient& h2, std::int32_t id, const std::string& name) {
  const auto it = h2.headers_.find(id);
  if (it == h2.headers_.end()) return false;
  for (const auto& [n, v] : it->second) {
    if (n == name) return true;
  }
  return false;
}

/// The policies every protocol is checked with: /keep/ forwards the whole path, /v1/ is
/// rewritten to /v2/, /host/ sends the target's Host, /hdr/ edits headers both ways, /small/
/// takes bodies up to 1KiB, /dead/ (a port nobody listens on) too, /slow/ waits 300ms for an
/// answer where the proxy waits 10s, /stall/ gives a client that reads nothing 500ms where the
/// proxy gives 60s.
const char* const kRoutes[][2] = {
    {"/keep/", R"(,"stripPrefix":false)"},
    {"/v1/", R"(,"rewritePrefix":"/v2/")"},
    {"/host/", R"(,"preserveHost":false)"},
    {"/hdr/", R"(,"requestHeaders":{"set":{"X-Env":"prod"},"add":{"X-Tag":"edge"},)"
              R"("remove":["X-Debug"]},"responseHeaders":{"set":{"X-Served-By":"portico"},)"
              R"("add":{"Cache-Control":"no-store"},"remove":["Content-Type","Server"]})"},
    {"/small/", R"(,"maxBodySize":"1KiB")"},
    {"/slow/", R"(,"timeouts":{"read":"300ms"})"},
    {"/stall/", R"(,"timeouts":{"send":"500ms"})"},
};

struct PolicyStack {
  Stack stack;
  int proxy{0};
  int tlsPort{0};
  int echoPort{0};
  std::unique_ptr<TestCertificates> certs;

  explicit PolicyStack(bool tls) {
    echoPort = stack.echo("e1");
    std::vector<std::string> defines = {"proxy.read_timeout=10s"};
    if (tls) {
      certs = std::make_unique<TestCertificates>(stack.dir().path());
      certs->issue("a", {"a.test"});
      tlsPort = freePort();
      defines.push_back("proxy.tls.port=" + std::to_string(tlsPort));
      defines.push_back("proxy.tls.certificates=" + certs->certificate("a") + ":" +
                        certs->key("a"));
    }
    proxy = stack.proxy(defines);
    for (const auto& [prefix, extra] : kRoutes)
      stack.route(prefix, {stack.url("e1")}, "round_robin", extra);
    // Nothing listens there: a request that reached for it would get 502, not 413.
    stack.route("/dead/", {"http://127.0.0.1:" + std::to_string(freePort())}, "round_robin",
                R"(,"maxBodySize":"1KiB")");
    stack.awaitProxyRevision(proxy, stack.storeRevision());
  }
};

}  // namespace

/// Route request policies (issue #19 point 4) end to end: what the target receives (path, Host,
/// headers) and what the client gets back (headers, 413, 504 at the route's timeout), over
/// HTTP/1.1 and HTTP/2, and a PATCH taking effect in a running proxy.
class RoutePoliciesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RoutePoliciesTest);
  CPPUNIT_TEST(testPathAndHostOverHttp1);
  CPPUNIT_TEST(testHeaderEditsOverHttp1);
  CPPUNIT_TEST(testBodyLimitOverHttp1);
  CPPUNIT_TEST(testRouteReadTimeoutOverHttp1);
  CPPUNIT_TEST(testRouteSendTimeoutOverHttp1);
  CPPUNIT_TEST(testPoliciesOverHttp2);
  CPPUNIT_TEST(testPatchTakesEffectWithoutRestart);
  CPPUNIT_TEST(testInvalidPoliciesAreRefused);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPathAndHostOverHttp1() {
    PolicyStack t(false);
    const struct {
      const char* request;
      const char* path;  // as the target gets it
    } rows[] = {{"/keep/a/b?q=1", "/keep/a/b?q=1"},
                {"/keep", "/keep"},
                {"/v1/users?id=7", "/v2/users?id=7"},
                {"/v1", "/v2"},
                {"/host/x", "/x"}};
    for (const auto& r : rows) {
      const auto res = http(t.proxy, "GET", r.request, "", {{"Host", "client.test"}});
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request + std::string(": ") + res.body, 200, res.status);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request, std::string(r.path), field(res.body, "path"));
    }
    const std::string target = "127.0.0.1:" + std::to_string(t.echoPort);
    auto res = http(t.proxy, "GET", "/host/x", "", {{"Host", "client.test"}});
    CPPUNIT_ASSERT_EQUAL(target, echoedHeader(res.body, "host"));
    CPPUNIT_ASSERT_EQUAL(std::string("client.test"), echoedHeader(res.body, "x-forwarded-host"));
    // preserveHost (the default) keeps the client's.
    res = http(t.proxy, "GET", "/keep/x", "", {{"Host", "client.test"}});
    CPPUNIT_ASSERT_EQUAL(std::string("client.test"), echoedHeader(res.body, "host"));
  }

  void testHeaderEditsOverHttp1() {
    PolicyStack t(false);
    const auto res = http(t.proxy, "GET", "/hdr/x", "",
                          {{"X-Env", "dev"}, {"X-Debug", "1"}, {"X-Tag", "client"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 200, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("prod"), echoedHeader(res.body, "x-env"));
    CPPUNIT_ASSERT(!echoHasHeader(res.body, "x-debug"));
    // add keeps the client's and appends the route's (the echo joins repeats with ", ").
    CPPUNIT_ASSERT_EQUAL(std::string("client, edge"), echoedHeader(res.body, "x-tag"));
    CPPUNIT_ASSERT_EQUAL(std::string("portico"), res.header("x-served-by"));
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), res.header("cache-control"));
    CPPUNIT_ASSERT_EQUAL(std::string(), res.header("content-type"));
    CPPUNIT_ASSERT_EQUAL(std::string(), res.header("server"));  // nor the proxy's own
    // Another route's response is untouched.
    const auto plain = http(t.proxy, "GET", "/keep/x");
    CPPUNIT_ASSERT_EQUAL(std::string("application/json"), plain.header("content-type"));
    CPPUNIT_ASSERT_EQUAL(std::string(), plain.header("x-served-by"));
  }

  void testBodyLimitOverHttp1() {
    PolicyStack t(false);
    const std::string small(1024, 's');
    const std::string big(4096, 'b');
    auto res = http(t.proxy, "POST", "/small/x", small);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 200, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1024"), json(res.body)->getValue<std::string>("bodyLength"));
    res = http(t.proxy, "POST", "/small/x", big);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 413, res.status);
    CPPUNIT_ASSERT_EQUAL(
        std::string("request body larger than 1KiB (maxBodySize of route /small/)"),
        field(res.body, "error"));
    // Refused before any target is chosen: /dead/'s target would have given 502.
    res = http(t.proxy, "POST", "/dead/x", big);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 413, res.status);
    // Chunked: refused once the body passes the limit, under it forwarded whole.
    res = httpChunked(t.proxy, "POST", "/small/x", big);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body + res.error, 413, res.status);
    res = httpChunked(t.proxy, "POST", "/small/x", small);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 200, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1024"), json(res.body)->getValue<std::string>("bodyLength"));
    // Other routes have no limit.
    res = http(t.proxy, "POST", "/keep/x", big);
    CPPUNIT_ASSERT_EQUAL(200, res.status);
  }

  void testRouteReadTimeoutOverHttp1() {
    PolicyStack t(false);
    const auto start = Clock::now();
    const auto res = http(t.proxy, "GET", "/slow/x?delay=3s");
    const long took = elapsedMs(start);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 504, res.status);
    CPPUNIT_ASSERT_MESSAGE(res.body,
                           field(res.body, "error").find("within 300ms") != std::string::npos);
    // The route's 300ms, not the proxy's 10s (bounded well below the target's 3s delay).
    CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 250 && took < 2500);
    // The proxy's own timeout still serves the other routes.
    CPPUNIT_ASSERT_EQUAL(200, http(t.proxy, "GET", "/keep/x?delay=600ms").status);
  }

  void testRouteSendTimeoutOverHttp1() {
    PolicyStack t(false);
    const std::uint64_t size = std::uint64_t{64} << 20;  // far more than the socket buffers hold
    RawClient c(t.proxy, std::chrono::seconds(10));
    c.send("GET /stall/x?size=" + std::to_string(size) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    // The stalled client under test: it reads nothing for four times the route's send timeout.
    std::this_thread::sleep_for(2s);
    const auto start = Clock::now();
    c.readToEnd();
    // Cut off by the proxy: not the whole body, and before the client's own 10s receive timeout
    // (with the proxy's 60s the whole body would arrive and the connection stay open).
    CPPUNIT_ASSERT_MESSAGE(std::to_string(c.data().size()), c.data().size() < size);
    CPPUNIT_ASSERT_MESSAGE(std::to_string(elapsedMs(start)), elapsedMs(start) < 9000);
  }

  void testPoliciesOverHttp2() {
    PolicyStack t(true);
    TlsClient c(t.tlsPort, "a.test", {"h2"});
    CPPUNIT_ASSERT_EQUAL(std::string("h2"), c.protocol());
    Http2TestClient h2(c);
    const auto keep = h2.get("/keep/a?q=1", "a.test");
    const auto rewrite = h2.get("/v1/users", "a.test");
    const auto host = h2.get("/host/x", "a.test");
    const auto hdr =
        h2.request("GET", "/hdr/x", {{"x-env", "dev"}, {"x-debug", "1"}}, "", "a.test");
    const auto announced = h2.request("POST", "/small/x", {{"content-length", "4096"}},
                                      std::string(4096, 'b'), "a.test");
    const auto streamed = h2.request("POST", "/small/x", {}, std::string(4096, 'b'), "a.test");
    const auto fits = h2.request("POST", "/small/x", {}, std::string(1000, 's'), "a.test");
    const auto start = Clock::now();
    const auto slow = h2.get("/slow/x?delay=3s", "a.test");
    CPPUNIT_ASSERT(h2.runUntilDone(8s));
    const long took = elapsedMs(start);
    const auto body = [&](std::int32_t id) { return h2.bodies_[id]; };
    CPPUNIT_ASSERT_EQUAL_MESSAGE(body(keep), 200, h2.statuses().at(keep));
    CPPUNIT_ASSERT_EQUAL(std::string("/keep/a?q=1"), field(body(keep), "path"));
    CPPUNIT_ASSERT_EQUAL(std::string("/v2/users"), field(body(rewrite), "path"));
    CPPUNIT_ASSERT_EQUAL("127.0.0.1:" + std::to_string(t.echoPort),
                         echoedHeader(body(host), "host"));
    CPPUNIT_ASSERT_EQUAL(std::string("a.test"), echoedHeader(body(keep), "host"));
    CPPUNIT_ASSERT_EQUAL(std::string("prod"), echoedHeader(body(hdr), "x-env"));
    CPPUNIT_ASSERT(!echoHasHeader(body(hdr), "x-debug"));
    CPPUNIT_ASSERT_EQUAL(std::string("edge"), echoedHeader(body(hdr), "x-tag"));
    CPPUNIT_ASSERT_EQUAL(std::string("portico"), h2Header(h2, hdr, "x-served-by"));
    CPPUNIT_ASSERT_EQUAL(std::string("no-store"), h2Header(h2, hdr, "cache-control"));
    CPPUNIT_ASSERT(!h2HasHeader(h2, hdr, "content-type"));
    CPPUNIT_ASSERT(!h2HasHeader(h2, hdr, "server"));
    CPPUNIT_ASSERT_EQUAL(std::string("portico"), h2Header(h2, keep, "server"));
    CPPUNIT_ASSERT(h2HasHeader(h2, keep, "content-type"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(body(announced), 413, h2.statuses().at(announced));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(body(streamed), 413, h2.statuses().at(streamed));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(body(fits), 200, h2.statuses().at(fits));
    CPPUNIT_ASSERT_EQUAL(std::string("1000"),
                         json(body(fits))->getValue<std::string>("bodyLength"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(body(slow), 504, h2.statuses().at(slow));
    CPPUNIT_ASSERT_MESSAGE(body(slow),
                           field(body(slow), "error").find("within 300ms") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took < 2500);
  }

  void testPatchTakesEffectWithoutRestart() {
    Stack stack;
    const int proxy = stack.proxyToOneEcho("e1");
    CPPUNIT_ASSERT_EQUAL(std::string("/x"), field(http(proxy, "GET", "/proxy/x").body, "path"));
    auto r = stack.admin("PATCH", "/endpoints/routes?prefixPath=/proxy/",
                         R"({"stripPrefix":false,"responseHeaders":{"set":{"X-Policy":"on"}},)"
                         R"("maxBodySize":"16B","timeouts":{"read":"200ms"}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    const auto route = json(r.body);
    CPPUNIT_ASSERT_EQUAL(false, route->getValue<bool>("stripPrefix"));
    CPPUNIT_ASSERT_EQUAL(std::string("16B"), route->getValue<std::string>("maxBodySize"));
    CPPUNIT_ASSERT_EQUAL(std::string("200ms"),
                         route->getObject("timeouts")->getValue<std::string>("read"));
    CPPUNIT_ASSERT(route->getObject("timeouts")->isNull("connect"));
    stack.awaitProxyRevision(proxy, stack.storeRevision());
    auto res = http(proxy, "GET", "/proxy/x");
    CPPUNIT_ASSERT_EQUAL(std::string("/proxy/x"), field(res.body, "path"));
    CPPUNIT_ASSERT_EQUAL(std::string("on"), res.header("x-policy"));
    CPPUNIT_ASSERT_EQUAL(413, http(proxy, "POST", "/proxy/x", std::string(17, 'b')).status);
    CPPUNIT_ASSERT_EQUAL(504, http(proxy, "GET", "/proxy/x?delay=2s").status);
    // The change is one revision and one history row with the fields before and after.
    const auto changes = stack.admin("GET", "/endpoints/changes?route=/proxy/");
    CPPUNIT_ASSERT_MESSAGE(changes.body, changes.body.find("route.update") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(changes.body, changes.body.find("stripPrefix") != std::string::npos);
    // null gives a field back its default.
    r = stack.admin("PATCH", "/endpoints/routes?prefixPath=/proxy/",
                    R"({"stripPrefix":true,"maxBodySize":null,"timeouts":{"read":null}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    stack.awaitProxyRevision(proxy, stack.storeRevision());
    CPPUNIT_ASSERT_EQUAL(std::string("/x"), field(http(proxy, "GET", "/proxy/x").body, "path"));
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "POST", "/proxy/x", std::string(17, 'b')).status);
  }

  void testInvalidPoliciesAreRefused() {
    Stack stack;
    stack.echo("e1");
    stack.route("/r/", {stack.url("e1")});
    const struct {
      const char* body;
      const char* field;
    } rows[] = {
        {R"({"requestHeaders":{"set":{"Connection":"close"}}})", "requestHeaders.set.Connection"},
        {R"({"requestHeaders":{"remove":["Host"]}})", "requestHeaders.remove[0]"},
        {R"({"responseHeaders":{"add":{"Transfer-Encoding":"chunked"}}})",
         "responseHeaders.add.Transfer-Encoding"},
        {R"({"maxBodySize":"ten"})", "maxBodySize"},
        {R"({"timeouts":{"read":"soon"}})", "timeouts.read"},
        {R"({"stripPrefix":false,"rewritePrefix":"/v2/"})", "rewritePrefix"},
    };
    for (const auto& row : rows) {
      const auto r = stack.admin("PATCH", "/endpoints/routes?prefixPath=/r/", row.body);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(row.body + std::string(" ") + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find(row.field) != std::string::npos);
    }
    const auto r = stack.admin("POST", "/endpoints/routes",
                               R"({"prefixPath":"/s/","targets":[],)"
                               R"("requestHeaders":{"set":{"Content-Length":"1"}}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoutePoliciesTest);
