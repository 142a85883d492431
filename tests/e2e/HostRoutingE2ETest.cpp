#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <string>
#include <vector>

#include "e2e/ProxyTestHarness.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;

namespace {

/// A route body with a host.
std::string hostRoute(const std::string& host, const std::string& prefix,
                      const std::vector<std::string>& targets) {
  return "{\"host\":" + quoted(host) + ",\"prefixPath\":" + quoted(prefix) +
         ",\"targets\":" + jsonList(targets) + "}";
}

void create(Stack& s, const std::string& host, const std::string& prefix,
            const std::vector<std::string>& targets) {
  const auto r = s.admin("POST", "/endpoints/routes", hostRoute(host, prefix, targets));
  CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 201, r.status);
}

/// The echo backend that answered GET `path` with `Host: host` ("" for a proxy answer).
std::string backend(int proxy, const std::string& host, const std::string& path) {
  const auto r = http(proxy, "GET", path, "", {{"Host", host}});
  return r.status == 200 ? tryField(r.body, "name") : std::to_string(r.status) + " " + r.body;
}

std::string file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

/// Routing by host end to end: the sidecar's API with hosts, the proxy choosing by Host (HTTP/1.1)
/// and :authority (HTTP/2), wildcards, fall-through, 404 naming the host, 421 on a connection
/// whose certificate does not cover the stream's host, metrics and the access log.
class HostRoutingE2ETest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HostRoutingE2ETest);
  CPPUNIT_TEST(testHostsOverHttp1);
  CPPUNIT_TEST(testAdminApiByHost);
  CPPUNIT_TEST(testHostsOverHttp2And421);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testHostsOverHttp1() {
    Stack s;
    for (const char* name : {"a", "b", "wild", "any"}) s.echo(name);
    const int proxy = s.proxy({"proxy.access_log=" + s.dir().file("access.log")});
    create(s, "a.test", "/api/", {s.url("a")});
    create(s, "b.test", "/api/", {s.url("b")});
    create(s, "*.wild.test", "/api/", {s.url("wild")});
    s.route("/", {s.url("any")});
    s.awaitProxyRevision(proxy, s.storeRevision());

    // Two hosts, one prefix, two backends; case, port and a trailing dot do not matter.
    CPPUNIT_ASSERT_EQUAL(std::string("a"), backend(proxy, "a.test", "/api/x"));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), backend(proxy, "b.test", "/api/x"));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), backend(proxy, "B.Test:8080", "/api/x"));
    CPPUNIT_ASSERT_EQUAL(std::string("a"), backend(proxy, "a.test.", "/api/x"));
    // A wildcard covers the labels in front of its suffix, not the suffix itself.
    CPPUNIT_ASSERT_EQUAL(std::string("wild"), backend(proxy, "x.wild.test", "/api/x"));
    CPPUNIT_ASSERT_EQUAL(std::string("wild"), backend(proxy, "y.x.wild.test", "/api/x"));
    CPPUNIT_ASSERT_EQUAL(std::string("any"), backend(proxy, "wild.test", "/api/x"));
    // Fall-through: a host whose routes miss the path, and an unknown host, reach any-host.
    CPPUNIT_ASSERT_EQUAL(std::string("any"), backend(proxy, "a.test", "/other"));
    CPPUNIT_ASSERT_EQUAL(std::string("any"), backend(proxy, "c.test", "/api/x"));
    // HTTP/1.0 without Host: only the any-host routes.
    RawClient old(proxy);
    old.send("GET /api/x HTTP/1.0\r\n\r\n");
    CPPUNIT_ASSERT(old.readToEnd());
    CPPUNIT_ASSERT_MESSAGE(old.data(), old.data().find("\"name\":\"any\"") != std::string::npos);
    // An absolute-form target names its host (RFC 9112 3.2.2).
    RawClient absolute(proxy);
    absolute.send("GET http://b.test/api/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    CPPUNIT_ASSERT(absolute.readToEnd());
    CPPUNIT_ASSERT_MESSAGE(absolute.data(),
                           absolute.data().find("\"name\":\"b\"") != std::string::npos);

    // Without the any-host route, a miss is a 404 naming the host.
    CPPUNIT_ASSERT_EQUAL(200, s.admin("DELETE", "/endpoints/routes?prefixPath=/").status);
    s.awaitProxyRevision(proxy, s.storeRevision());
    const auto miss = http(proxy, "GET", "/x?q=1", "", {{"Host", "A.test:80"}});
    CPPUNIT_ASSERT_EQUAL(404, miss.status);
    CPPUNIT_ASSERT_EQUAL(std::string("{\"error\":\"no route for a.test/x\"}\n"), miss.body);

    // Metrics carry the route's host beside its prefix; the access log names it.
    const auto m = http(s.statusPort(proxy), "GET", "/metrics").body;
    const std::string a = "portico_requests_total{route=\"/api/\",host=\"a.test\",target=\"" +
                          s.url("a") + "\",code=\"200\"}";
    CPPUNIT_ASSERT_MESSAGE(m, metric(m, a) == 2);
    CPPUNIT_ASSERT_MESSAGE(m, metric(m,
                                     "portico_request_duration_seconds_count{route=\"/api/\","
                                     "host=\"*.wild.test\"}") >= 2);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return file(s.dir().file("access.log")).find(" b.test/api/ ") != std::string::npos; },
        5s));
  }

  void testAdminApiByHost() {
    Stack s;
    s.echo("e");
    create(s, "a.test", "/api/", {s.url("e")});
    s.route("/api/", {s.url("e")});
    // The same host and prefix twice: 409; the same prefix on another host is another route.
    auto r = s.admin("POST", "/endpoints/routes", hostRoute("A.TEST", "api", {}));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 409, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("route a.test/api/ already exists"), field(r.body, "error"));
    // Refused hosts name the field.
    for (const char* bad : {"a.com:80", "*", "a.*.com", "*a.com", "a b.com", "a_b.com"}) {
      r = s.admin("POST", "/endpoints/routes", hostRoute(bad, "/z/", {}));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(bad + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(r.body, field(r.body, "error").find("invalid field 'host'") == 0);
    }
    // Every endpoint that names a route takes host beside prefixPath; absent is any host.
    r = s.admin("GET", "/endpoints/routes?host=a.test");
    auto routes = json(r.body)->getArray("routes");
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), routes->size());
    CPPUNIT_ASSERT_EQUAL(std::string("a.test"),
                         routes->getObject(0)->getValue<std::string>("host"));
    r = s.admin("GET", "/endpoints/list?prefixPath=/api/&host=a.test");
    CPPUNIT_ASSERT_EQUAL(std::string("a.test"), field(r.body, "host"));
    r = s.admin("GET", "/endpoints/list?prefixPath=/api/");
    CPPUNIT_ASSERT_EQUAL(std::string(""), field(r.body, "host"));
    r = s.admin(
        "POST", "/endpoints/add",
        "{\"prefixPath\":\"/api/\",\"host\":\"a.test\",\"targets\":[\"http://127.0.0.1:9\"]}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    r = s.admin("PATCH", "/endpoints?prefixPath=/api/&host=a.test&target=http://127.0.0.1:9",
                "{\"weight\":5}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    r = s.admin("PATCH", "/endpoints/routes?prefixPath=/api/&host=a.test",
                "{\"balancer\":\"least_conn\"}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("least_conn"), field(r.body, "balancer"));
    CPPUNIT_ASSERT_EQUAL(
        std::string("round_robin"),
        field(s.admin("GET", "/endpoints/list?prefixPath=/api/").body, "balancer"));
    r = s.admin(
        "POST", "/endpoints/remove",
        "{\"prefixPath\":\"/api/\",\"host\":\"a.test\",\"targets\":[\"http://127.0.0.1:9\"]}");
    CPPUNIT_ASSERT_EQUAL(std::string("1"),
                         std::to_string(json(r.body)->getValue<int>("removedCount")));
    // The history names the host in every row of the route's changes.
    r = s.admin("GET", "/endpoints/changes?route=/api/&host=a.test");
    auto changes = json(r.body)->getArray("changes");
    std::size_t written = 0;  // besides the checker's verdict on :9, which may come any time
    for (std::size_t i = 0; i < changes->size(); ++i) {
      const auto row = changes->getObject(i);
      CPPUNIT_ASSERT_EQUAL(std::string("a.test"), row->getValue<std::string>("host"));
      written += row->getValue<std::string>("action") != "target.health" ? 1 : 0;
    }
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, std::size_t(6), written);
    r = s.admin("DELETE", "/endpoints/routes?prefixPath=/api/&host=a.test");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("deleted route a.test/api/"), field(r.body, "message"));
    CPPUNIT_ASSERT_EQUAL(
        404, s.admin("DELETE", "/endpoints/routes?prefixPath=/api/&host=a.test").status);
    CPPUNIT_ASSERT_EQUAL(200, s.admin("GET", "/endpoints/list?prefixPath=/api/").status);
  }

  void testHostsOverHttp2And421() {
    Stack s;
    TestCertificates certs{s.dir().path()};
    certs.issue("a", {"a.test", "*.wild.test"});
    certs.issue("b", {"b.test"});
    s.echo("e");
    const int tls = freePort();
    const int proxy =
        s.proxy({"proxy.tls.port=" + std::to_string(tls),
                 "proxy.tls.certificates=" + certs.certificate("a") + ":" + certs.key("a") + "," +
                     certs.certificate("b") + ":" + certs.key("b")});
    create(s, "a.test", "/h2/", {s.url("e")});
    create(s, "b.test", "/h2/", {"http://127.0.0.1:9"});  // nobody listens: 502 tells it apart
    create(s, "*.wild.test", "/w/", {s.url("e")});
    s.route("/any/", {s.url("e")});
    s.awaitProxyRevision(proxy, s.storeRevision());

    TlsClient ca(tls, "a.test", {"h2"});
    CPPUNIT_ASSERT_EQUAL(std::string("h2"), ca.protocol());
    Http2TestClient h2(ca);
    const auto exact = h2.get("/h2/x", "a.test");
    const auto wild = h2.get("/w/x", "x.wild.test:443");
    const auto through = h2.get("/any/x", "a.test");
    const auto noRoute = h2.get("/none", "a.test");
    // b.test is another certificate's: a client that coalesced it onto this connection is told.
    const auto coalesced = h2.get("/h2/x", "b.test");
    const auto unknown = h2.get("/any/x", "elsewhere.test");
    CPPUNIT_ASSERT(h2.runUntilDone(5s));
    CPPUNIT_ASSERT_EQUAL(200, h2.statuses().at(exact));
    CPPUNIT_ASSERT_EQUAL(200, h2.statuses().at(wild));
    CPPUNIT_ASSERT_EQUAL(200, h2.statuses().at(through));
    CPPUNIT_ASSERT_EQUAL(404, h2.statuses().at(noRoute));
    CPPUNIT_ASSERT_EQUAL(421, h2.statuses().at(coalesced));
    CPPUNIT_ASSERT_EQUAL(421, h2.statuses().at(unknown));

    // On b.test's own connection the request reaches b.test's route (its dead target: 502).
    TlsClient cb(tls, "b.test", {"h2"});
    Http2TestClient h2b(cb);
    const auto own = h2b.get("/h2/x", "b.test");
    CPPUNIT_ASSERT(h2b.runUntilDone(5s));
    const int status = h2b.statuses().at(own);  // 502, or 503 once its probe failed
    CPPUNIT_ASSERT_MESSAGE(std::to_string(status), status == 502 || status == 503);

    // HTTP/1.1 over TLS routes by Host the same way.
    TlsClient one(tls, "a.test", {"http/1.1"});
    one.send("GET /h2/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    const auto answer = one.readUntil("\"name\"");
    CPPUNIT_ASSERT_MESSAGE(answer, answer.rfind("HTTP/1.1 200", 0) == 0);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostRoutingE2ETest);
