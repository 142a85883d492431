#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <cstdio>
#include <limits>
#include <set>
#include <thread>

#include "e2e/ProxyTestHarness.h"
#include "store/sqlite/Sqlite.h"

using namespace portico::test;

namespace {

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

}  // namespace

/// The data plane end to end: routing, rewriting, headers, errors, balancing, reloads.
class ProxyRoutingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyRoutingTest);
  CPPUNIT_TEST(testPathRewritingAndLongestPrefix);
  CPPUNIT_TEST(testDotSegmentsResolvedBeforeRouting);
  CPPUNIT_TEST(testAmbiguousBodyFramingRefused);
  CPPUNIT_TEST(testHeadersForwarded);
  CPPUNIT_TEST(testUntrustedPeerCannotForgeForwardedFor);
  CPPUNIT_TEST(testMethodsStatusesAndBodilessAnswers);
  CPPUNIT_TEST(testNoRouteIs404AndNoHealthyTargetIs503);
  CPPUNIT_TEST(testResetBeforeAnswerIs502);
  CPPUNIT_TEST(testRefusedConnectionGoesToAnotherTarget);
  CPPUNIT_TEST(testUnresolvableTargetNameIsLoggedAndNotServed);
  CPPUNIT_TEST(testSlowBackendIs504);
  CPPUNIT_TEST(testRoundRobinAlternates);
  CPPUNIT_TEST(testIpHashFollowsForwardedClient);
  CPPUNIT_TEST(testExpectContinue);
  CPPUNIT_TEST(testAddedTargetGetsTrafficWithinOneSecond);
  CPPUNIT_TEST(testSecondInstanceOnSamePortFails);
  CPPUNIT_TEST(testNewerStoreRefused);
  CPPUNIT_TEST(testAccessLogAndGracefulStop);
  CPPUNIT_TEST(testIdleConnectionsDoNotHoldUpOthers);
  CPPUNIT_TEST(testBusyConnectionsAllServedWithoutClosing);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// Idle keep-alive clients cost a loop nothing: with one event loop, two clients that keep
  /// their connections open do not hold up a third.
  void testIdleConnectionsDoNotHoldUpOthers() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1", {"proxy.workers=1"});
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 2; ++i) {
      idle.push_back(std::make_unique<RawClient>(proxy));
      idle.back()->send("GET /proxy/idle HTTP/1.1\r\nHost: x\r\n\r\n");
      CPPUNIT_ASSERT_MESSAGE(idle.back()->data(), idle.back()->readUntil("\"bodyFnv1a\""));
    }
    const auto r = http(proxy, "GET", "/proxy/queued", "", {}, 5s);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.error, 200, r.status);
    // Both idle clients are still connected and served on their open connections.
    for (auto& c : idle) {
      c->send("GET /proxy/again HTTP/1.1\r\nHost: x\r\n\r\n");
      CPPUNIT_ASSERT_MESSAGE(c->data(), c->readUntil("/again"));
    }
  }

  /// More busy clients than event loops: every client is served all along and no keep-alive
  /// connection is closed to make room (the thread-per-connection core had to).
  void testBusyConnectionsAllServedWithoutClosing() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1", {"proxy.workers=1"});
    constexpr int kClients = 8;
    std::vector<int> served(kClients, 0);
    std::vector<int> closes(kClients, 0);
    const auto until = std::chrono::steady_clock::now() + 2s;
    ThreadGroup clients;
    for (int c = 0; c < kClients; ++c) {
      clients.spawn([&, c] {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(proxy));
        session.setKeepAlive(true);
        session.setTimeout(Poco::Timespan(2, 0));  // starved past this: the request fails
        try {
          while (std::chrono::steady_clock::now() < until) {
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/proxy/busy",
                                           Poco::Net::HTTPMessage::HTTP_1_1);
            session.sendRequest(request);
            Poco::Net::HTTPResponse response;
            std::istream& in = session.receiveResponse(response);
            in.ignore(std::numeric_limits<std::streamsize>::max());
            if (response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) ++served[c];
            if (!response.getKeepAlive()) ++closes[c];  // the session reconnects by itself
          }
        } catch (const Poco::Exception&) {
          // a starved client: its count tells
        }
      });
    }
    clients.join();
    for (int c = 0; c < kClients; ++c) {
      CPPUNIT_ASSERT_MESSAGE("client " + std::to_string(c) + " starved", served[c] > 10);
      CPPUNIT_ASSERT_EQUAL_MESSAGE("client " + std::to_string(c) + " was closed", 0, closes[c]);
    }
  }

  /// "." and ".." are resolved before routing (as nginx does): a path cannot climb out of its
  /// route into another, or above a target's base path.
  void testDotSegmentsResolvedBeforeRouting() {
    Stack s;
    s.echo("e1");
    s.echo("e2");
    const int proxy = s.proxy();
    s.route("/proxy/", {s.url("e1") + "/base"});
    s.route("/personal/", {s.url("e2")});
    s.awaitStatusChange(proxy, "/personal/x", 404);
    struct Row {
      const char* request;
      const char* backend;
      const char* path;
    };
    const Row rows[] = {
        {"/proxy/../personal/x", "e2", "/x"},
        {"/proxy/a/%2e%2E/b?q=/../c", "e1", "/base/b?q=/../c"},
        {"/proxy/a/./b/..", "e1", "/base/a/"},
        {"/proxy/..", "", ""},  // "/": no route
        {"/proxy/../../etc/passwd", "", ""},
    };
    for (const auto& r : rows) {
      const auto res = http(proxy, "GET", r.request);
      if (*r.backend == 0) {
        CPPUNIT_ASSERT_MESSAGE(r.request + res.body, res.status == 404 || res.status == 400);
        CPPUNIT_ASSERT_MESSAGE(r.request + res.body, !tryField(res.body, "error").empty());
        continue;
      }
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request + res.error, 200, res.status);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request, std::string(r.backend), field(res.body, "name"));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request, std::string(r.path), field(res.body, "path"));
    }
    CPPUNIT_ASSERT_EQUAL(400, http(proxy, "GET", "/proxy/../../etc/passwd").status);
  }

  /// Requests whose body two parsers could delimit differently (the stuff of request smuggling)
  /// are refused before anything reaches a target, and the connection is closed.
  void testAmbiguousBodyFramingRefused() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1");
    const struct {
      const char* headers;
      const char* status;
    } rows[] = {
        {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "HTTP/1.1 400"},
        {"Content-Length: 5\r\nContent-Length: 41\r\n", "HTTP/1.1 400"},
        {"Content-Length: abc\r\n", "HTTP/1.1 400"},
        {"Transfer-Encoding: gzip, chunked\r\n", "HTTP/1.1 501"},
    };
    for (const auto& row : rows) {
      RawClient raw(proxy);
      raw.send(std::string("POST /proxy/x HTTP/1.1\r\nHost: x\r\n") + row.headers +
               "\r\n0\r\n\r\nGET /proxy/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
      CPPUNIT_ASSERT_MESSAGE(row.headers + raw.data(), raw.readUntil("\"error\""));
      CPPUNIT_ASSERT_MESSAGE(row.headers + raw.data(), raw.data().rfind(row.status, 0) == 0);
      // Closed after the refusal: the bytes after the head are never read as a request.
      while (raw.readSome()) {
      }
      CPPUNIT_ASSERT_MESSAGE(row.headers + raw.error(), raw.eof());
      CPPUNIT_ASSERT_MESSAGE(raw.data(), raw.data().find("smuggled") == std::string::npos);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(raw.data(), 1, count(raw.data(), "HTTP/1.1 "));
    }
    // A plain chunked upload still goes through.
    RawClient ok(proxy);
    ok.send(
        "POST /proxy/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n");
    CPPUNIT_ASSERT_MESSAGE(ok.data(), ok.readUntil("\"bodyFnv1a\""));
    CPPUNIT_ASSERT(ok.data().rfind("HTTP/1.1 200", 0) == 0);
  }

  void testPathRewritingAndLongestPrefix() {
    Stack s;
    s.echo("e1");
    s.echo("e2");
    const int proxy = s.proxy();
    s.route("/proxy/", {s.url("e1")});
    s.route("/proxy/deep/", {s.url("e2") + "/base"});
    // Not "until it is no longer 404": /proxy/ alone already answers for /proxy/deep/x, and a
    // slow reload (a sanitizer build) may show that state first.
    CPPUNIT_ASSERT(waitUntil(
        [&] { return tryField(http(proxy, "GET", "/proxy/deep/x").body, "name") == "e2"; }, 10s));
    struct Row {
      const char* request;
      const char* backend;
      const char* path;
    };
    const Row rows[] = {
        {"/proxy/a/b?q=1", "e1", "/a/b?q=1"},
        {"/proxy", "e1", "/"},
        {"/proxy/", "e1", "/"},
        {"/proxy?x=1", "e1", "/?x=1"},
        {"/proxy/deeper", "e1", "/deeper"},
        {"/proxy/deep/x?y=2", "e2", "/base/x?y=2"},
        {"/proxy/deep", "e2", "/base/"},
    };
    for (const auto& r : rows) {
      const auto res = http(proxy, "GET", r.request);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request + res.error, 200, res.status);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request, std::string(r.backend), field(res.body, "name"));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.request, std::string(r.path), field(res.body, "path"));
    }
  }

  void testHeadersForwarded() {
    Stack s;
    const int e1 = s.echo("e1");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {s.url("e1")});
    // Raw, because HTTPClientSession rewrites the Connection header.
    RawClient client(proxy);
    client.send(
        "GET /proxy/h HTTP/1.1\r\nHost: front.example:8443\r\nConnection: keep-alive, X-Hop\r\n"
        "X-Hop: must not pass\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\n"
        "Proxy-Authorization: Basic eDp5\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Host: "
        "forged\r\n"
        "X-End-To-End: kept\r\n\r\n");
    CPPUNIT_ASSERT_MESSAGE(client.data() + client.error(), client.readUntil("\"bodyFnv1a\""));
    HttpResult res;
    res.status = client.data().rfind("HTTP/1.1 200", 0) == 0 ? 200 : 0;
    res.body = client.data().substr(client.data().find("\r\n\r\n") + 4);
    res.headers["x-backend"] =
        client.data().find("\r\nX-Backend: e1\r\n") != std::string::npos ? "e1" : "";
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.error, 200, res.status);
    for (const char* gone :
         {"connection", "x-hop", "keep-alive", "te", "trailer", "proxy-authorization", "upgrade"})
      CPPUNIT_ASSERT_MESSAGE(std::string(gone) + " was forwarded: " + res.body,
                             !echoHasHeader(res.body, gone));
    CPPUNIT_ASSERT_EQUAL(std::string("kept"), echoedHeader(res.body, "x-end-to-end"));
    CPPUNIT_ASSERT_EQUAL(std::string("front.example:8443"), echoedHeader(res.body, "host"));
    // The test client is on 127.0.0.1, a trusted proxy by default: its chain is extended.
    CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.7, 127.0.0.1"),
                         echoedHeader(res.body, "x-forwarded-for"));
    CPPUNIT_ASSERT_EQUAL(std::string("front.example:8443"),
                         echoedHeader(res.body, "x-forwarded-host"));
    CPPUNIT_ASSERT_EQUAL(std::string("http"), echoedHeader(res.body, "x-forwarded-proto"));
    CPPUNIT_ASSERT_EQUAL("127.0.0.1:" + std::to_string(e1),
                         echoedHeader(res.body, "x-origin-host"));
    // Response headers pass through, POCO's own Date is replaced rather than doubled.
    CPPUNIT_ASSERT_EQUAL(std::string("e1"), res.header("x-backend"));
    RawClient raw(proxy);
    raw.send("GET /proxy/d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw.readUntil("\"bodyFnv1a\"");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(raw.data(), 1, count(raw.data(), "\r\nDate:"));
  }

  void testUntrustedPeerCannotForgeForwardedFor() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1", {"proxy.trusted_proxies=10.0.0.0/8"});
    const auto res = http(proxy, "GET", "/proxy/", "", {{"X-Forwarded-For", "203.0.113.7"}});
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), echoedHeader(res.body, "x-forwarded-for"));
  }

  void testMethodsStatusesAndBodilessAnswers() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1");
    for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
      const auto res =
          http(proxy, method, "/proxy/m?status=418", method == std::string("GET") ? "" : "abc");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(method, 418, res.status);
      CPPUNIT_ASSERT_EQUAL(std::string(method), field(res.body, "method"));
    }
    const auto head = http(proxy, "HEAD", "/proxy/h?size=1234");
    CPPUNIT_ASSERT_EQUAL(200, head.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1234"), head.header("content-length"));
    CPPUNIT_ASSERT(head.body.empty());
    // HEAD, 204 and 304 on one keep-alive connection: no stray body breaks the next answer.
    RawClient raw(proxy);
    raw.send(
        "HEAD /proxy/h?size=10 HTTP/1.1\r\nHost: x\r\n\r\nGET /proxy/n?status=204 "
        "HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /proxy/n?status=304 HTTP/1.1\r\nHost: x\r\n\r\nGET /proxy/last HTTP/1.1\r\nHost: "
        "x\r\n\r\n");
    CPPUNIT_ASSERT_MESSAGE(raw.data(), raw.readUntil("\"path\":\"/last\""));
    CPPUNIT_ASSERT_EQUAL(1, count(raw.data(), "HTTP/1.1 204"));
    CPPUNIT_ASSERT_EQUAL(1, count(raw.data(), "HTTP/1.1 304"));
  }

  void testNoRouteIs404AndNoHealthyTargetIs503() {
    Stack s;
    const int proxy = s.proxy();
    auto res = http(proxy, "GET", "/nothing/here");
    CPPUNIT_ASSERT_EQUAL(404, res.status);
    CPPUNIT_ASSERT(!field(res.body, "error").empty());
    CPPUNIT_ASSERT_EQUAL(std::string("application/json"), res.header("content-type"));
    s.route("/empty/", {});
    s.awaitStatusChange(proxy, "/empty/x", 404);
    res = http(proxy, "GET", "/empty/x");
    CPPUNIT_ASSERT_EQUAL(503, res.status);
    CPPUNIT_ASSERT(!field(res.body, "error").empty());
    res = http(proxy, "GET", "/nothing/here");
    CPPUNIT_ASSERT_EQUAL(404, res.status);
  }

  void testResetBeforeAnswerIs502() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1");
    const auto res = http(proxy, "GET", "/proxy/x?drop=1");
    CPPUNIT_ASSERT_EQUAL(502, res.status);
    CPPUNIT_ASSERT(!field(res.body, "error").empty());
    // The backend is still fine for the next request.
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/x").status);
  }

  void testRefusedConnectionGoesToAnotherTarget() {
    Stack s;
    s.echo("e1");
    s.echo("doomed");
    const int proxy = s.proxy();
    // A long health interval: the store keeps calling "doomed" healthy after it dies, so only
    // the proxy's own retry can save the requests sent to it.
    s.routeServed(proxy, "/proxy/", {s.url("doomed"), s.url("e1")}, "round_robin",
                  ",\"healthCheck\":{\"interval\":\"1h\"}");
    waitUntil([&] { return tryField(http(proxy, "GET", "/proxy/").body, "name") == "doomed"; }, 5s);
    s.echoProcess("doomed").kill9();
    for (int i = 0; i < 6; ++i) {
      const auto res = http(proxy, "GET", "/proxy/r");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body + res.error, 200, res.status);
      CPPUNIT_ASSERT_EQUAL(std::string("e1"), field(res.body, "name"));
    }
    CPPUNIT_ASSERT_MESSAGE(
        s.lastProxy().log(),
        s.lastProxy().log().find("did not accept a connection") != std::string::npos);
  }

  void testUnresolvableTargetNameIsLoggedAndNotServed() {
    // Names are resolved when the route table is built, never on the event loops: one that does
    // not resolve (.invalid never does, RFC 6761) is logged by the proxy. Requests still all go
    // to e1 (the sidecar's first probe marks the other target down as well).
    Stack s;
    s.echo("e1");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {"http://no-such-host.invalid:8080", s.url("e1")},
                  "round_robin", ",\"healthCheck\":{\"interval\":\"1h\"}");
    for (int i = 0; i < 4; ++i) {
      const auto res = http(proxy, "GET", "/proxy/r");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body + res.error, 200, res.status);
      CPPUNIT_ASSERT_EQUAL(std::string("e1"), field(res.body, "name"));
    }
    // The operator hears of it from the proxy as well as from the health check.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return s.lastProxy().log().find("cannot resolve 'no-such-host.invalid'") !=
                 std::string::npos;
        },
        5s));
  }

  void testSlowBackendIs504() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1", {"proxy.read_timeout=300ms"});
    const auto res = http(proxy, "GET", "/proxy/slow?delay=3s");
    CPPUNIT_ASSERT_EQUAL(504, res.status);
    CPPUNIT_ASSERT(!field(res.body, "error").empty());
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/fast").status);
  }

  void testRoundRobinAlternates() {
    Stack s;
    s.echo("e1");
    s.echo("e2");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/rr/", {s.url("e1"), s.url("e2")});
    // Each proxy thread (event loop) keeps its own rotation: the requests of one connection,
    // served by one thread, alternate strictly.
    KeepAliveClient client(proxy);
    std::string previous;
    std::map<std::string, int> seen;
    for (int i = 0; i < 10; ++i) {
      const auto res = client.get("/rr/x");
      const std::string name = field(res.body, "name");
      CPPUNIT_ASSERT_MESSAGE(res.body + res.error, name == "e1" || name == "e2");
      CPPUNIT_ASSERT_MESSAGE("same backend twice in a row", name != previous);
      previous = name;
      ++seen[name];
    }
    CPPUNIT_ASSERT_EQUAL(5, seen["e1"]);
    CPPUNIT_ASSERT_EQUAL(5, seen["e2"]);
    // New connections may each land on another thread: every thread's rotation alternates and
    // threads start at different targets, so the split stays even.
    seen.clear();
    for (int i = 0; i < 40; ++i) ++seen[field(http(proxy, "GET", "/rr/x").body, "name")];
    CPPUNIT_ASSERT_EQUAL(40, seen["e1"] + seen["e2"]);
    CPPUNIT_ASSERT_MESSAGE(std::to_string(seen["e1"]) + " vs " + std::to_string(seen["e2"]),
                           std::abs(seen["e1"] - seen["e2"]) <= 10);
  }

  void testIpHashFollowsForwardedClient() {
    Stack s;
    s.echo("e1");
    s.echo("e2");
    s.echo("e3");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/ip/", {s.url("e1"), s.url("e2"), s.url("e3")}, "ip_hash");
    std::set<std::string> used;
    for (int client = 1; client <= 12; ++client) {
      const std::string ip = "198.51.100." + std::to_string(client);
      const std::string first =
          field(http(proxy, "GET", "/ip/", "", {{"X-Forwarded-For", ip}}).body, "name");
      for (int i = 0; i < 3; ++i)
        CPPUNIT_ASSERT_EQUAL(
            first, field(http(proxy, "GET", "/ip/", "", {{"X-Forwarded-For", ip}}).body, "name"));
      used.insert(first);
    }
    CPPUNIT_ASSERT_MESSAGE("12 clients all hashed to one target", used.size() > 1);
  }

  void testExpectContinue() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1");
    RawClient raw(proxy);
    raw.send(
        "POST /proxy/up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    CPPUNIT_ASSERT_MESSAGE(raw.data() + raw.error(), raw.readUntil("100 Continue\r\n\r\n"));
    raw.send("hello");
    CPPUNIT_ASSERT_MESSAGE(raw.data(), raw.readUntil("\"bodyFnv1a\""));
    const std::string body = raw.data().substr(raw.data().find('{'));
    CPPUNIT_ASSERT_EQUAL(std::string("5"), json(body)->getValue<std::string>("bodyLength"));
    CPPUNIT_ASSERT(!echoHasHeader(body, "expect"));
  }

  void testAddedTargetGetsTrafficWithinOneSecond() {
    Stack s;
    s.echo("e1");
    s.echo("e2");
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {s.url("e1")});
    s.add("/proxy/", {s.url("e2")});
    const bool reached = waitUntil(
        [&] { return tryField(http(proxy, "GET", "/proxy/").body, "name") == "e2"; }, 1s, 10ms);
    CPPUNIT_ASSERT_MESSAGE("the added target got no request within 1 s", reached);
  }

  void testSecondInstanceOnSamePortFails() {
    Stack s;
    const int port = s.proxy();
    ChildProcess second(
        binary("portico-proxy"),
        {"--define=store.path=" + s.store(), "--define=proxy.port=" + std::to_string(port),
         "--define=proxy.host=127.0.0.1", "--define=proxy.status_port=off"},
        s.dir().file("second.log"), s.dir().path());
    const auto status = second.wait(10s);
    CPPUNIT_ASSERT_MESSAGE("a second proxy on a busy port kept running", status.has_value());
    CPPUNIT_ASSERT(*status != 0);
    CPPUNIT_ASSERT_MESSAGE(second.log(), second.log().find("cannot listen") != std::string::npos);
    CPPUNIT_ASSERT(s.lastProxy().running());
  }

  void testNewerStoreRefused() {
    Stack s;
    s.route("/proxy/", {});  // the sidecar has created and migrated the store
    {
      portico::SqliteConnection db(s.store(), SQLITE_OPEN_READWRITE);
      sqlite3_busy_timeout(db.get(), 5000);
      db.exec("PRAGMA user_version = 999");
    }
    ChildProcess proxy(
        binary("portico-proxy"),
        {"--define=store.path=" + s.store(), "--define=proxy.port=" + std::to_string(freePort()),
         "--define=proxy.status_port=off"},
        s.dir().file("newer.log"), s.dir().path());
    const auto status = proxy.wait(10s);
    CPPUNIT_ASSERT_MESSAGE("the proxy started on a store newer than itself", status.has_value());
    CPPUNIT_ASSERT(*status != 0);
    CPPUNIT_ASSERT_MESSAGE(proxy.log(), proxy.log().find("newer") != std::string::npos);
  }

  void testAccessLogAndGracefulStop() {
    Stack s;
    s.echo("e1");
    const std::string accessLog = s.dir().file("access.log");
    const int proxy = s.proxy({"proxy.access_log=" + accessLog});
    s.routeServed(proxy, "/proxy/", {s.url("e1")});
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/logged?x=1").status);
    CPPUNIT_ASSERT_EQUAL(404, http(proxy, "GET", "/unrouted").status);
    const auto fileText = [&] {
      std::ifstream in(accessLog);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    // Each loop writes its line once the answer is out: the two requests may be served by
    // different loops, so the second line can land before the first.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          const std::string t = fileText();
          return t.find("/unrouted") != std::string::npos &&
                 t.find("/proxy/logged") != std::string::npos;
        },
        5s));
    const std::string text = fileText();
    CPPUNIT_ASSERT_MESSAGE(text, text.find("127.0.0.1 GET /proxy/logged?x=1 /proxy/ " +
                                           s.url("e1") + " 200 ") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(text,
                           text.find("127.0.0.1 GET /unrouted - - 404 ") != std::string::npos);
    // Requests are logged to the file, not to stdout.
    CPPUNIT_ASSERT(s.lastProxy().log().find("/proxy/logged") == std::string::npos);
    // The loops serve as soon as the socket is bound; the main thread logs the line after
    // starting them (under TSan it once came after the two requests above).
    const std::string listening = "listening on 127.0.0.1:" + std::to_string(proxy);
    CPPUNIT_ASSERT_MESSAGE(
        s.lastProxy().log(),
        waitUntil([&] { return s.lastProxy().log().find(listening) != std::string::npos; }, 5s));

    // SIGUSR1 after logrotate moved the file: the next lines go to a new file of that name.
    const std::string rotated = accessLog + ".1";
    CPPUNIT_ASSERT_EQUAL(0, std::rename(accessLog.c_str(), rotated.c_str()));
    CPPUNIT_ASSERT_EQUAL(0, ::kill(s.lastProxy().pid(), SIGUSR1));
    CPPUNIT_ASSERT(waitUntil([&] { return std::ifstream(accessLog).good(); }, 5s));
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/after-rotation").status);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return fileText().find("/proxy/after-rotation") != std::string::npos; }, 5s));
    std::ifstream old(rotated);
    const std::string oldText(std::istreambuf_iterator<char>(old), {});
    CPPUNIT_ASSERT(oldText.find("/proxy/logged") != std::string::npos);
    CPPUNIT_ASSERT(oldText.find("/proxy/after-rotation") == std::string::npos);
    CPPUNIT_ASSERT(s.lastProxy().log().find("access log reopened") != std::string::npos);

    // SIGTERM: a clean exit, even with an idle keep-alive client connected.
    RawClient idle(proxy);
    idle.send("GET /proxy/k HTTP/1.1\r\nHost: x\r\n\r\n");
    CPPUNIT_ASSERT(idle.readUntil("\"bodyFnv1a\""));
    const auto status = s.lastProxy().stop(10s);
    CPPUNIT_ASSERT_MESSAGE(s.lastProxy().log(), status.has_value());
    CPPUNIT_ASSERT_EQUAL(0, *status);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyRoutingTest);
