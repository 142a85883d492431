#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <cppunit/extensions/HelperMacros.h>

#include "e2e/ProxyTestHarness.h"
#include "module/ProxyModule.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;

namespace {

/// The embedding application's own routes: /ping answers pong, anything else is its own 404.
class AppHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    if (request.getURI() == "/ping") {
      response.setContentType("text/plain");
      response.sendBuffer("pong", 4);
    } else {
      response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
      response.sendBuffer("app: not found", 14);
    }
  }
};

class AppFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new AppHandler;
  }
};

/// A POCO HTTPServer of the test's own with the proxy module mounted in it.
class AppServer {
 public:
  AppServer(const std::string& storePath, Poco::Net::HTTPRequestHandlerFactory::Ptr fallback,
            const std::string& caFile = "")
      : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)), pool_(2, 16) {
    portico::Settings settings;
    settings.storePath = storePath;
    settings.upstreamTls.caFile = caFile;
    settings.proxy.reloadInterval = std::chrono::milliseconds(50);
    settings.proxy.accessLog = "off";
    auto module = Poco::makeShared<portico::ProxyModule>(settings, fallback);
    server_ = std::make_unique<Poco::Net::HTTPServer>(
        module, pool_, socket_, Poco::makeAuto<Poco::Net::HTTPServerParams>());
    server_->start();
  }
  ~AppServer() {
    server_->stopAll(true);
    pool_.joinAll();
  }
  int port() const { return socket_.address().port(); }

 private:
  Poco::Net::ServerSocket socket_;
  Poco::ThreadPool pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace

/// The data plane as a module in someone else's POCO server (DESIGN "The proxy is a module").
class ProxyModuleTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyModuleTest);
  CPPUNIT_TEST(testModuleBesideApplicationRoutes);
  CPPUNIT_TEST(testWithoutFallbackUnmatchedIs404Json);
  CPPUNIT_TEST(testWaitsForStoreThatDoesNotExistYet);
  CPPUNIT_TEST(testModuleHonoursWeightsAndStates);
  CPPUNIT_TEST(testModuleReachesHttpsTargets);
  CPPUNIT_TEST(testModuleAppliesRoutePolicies);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// Route policies (issue #19 point 4) in the module: path, Host, headers both ways, the body
  /// limit (announced and chunked) and the route's read timeout.
  void testModuleAppliesRoutePolicies() {
    Stack s;
    const int echo = s.echo("e1");
    s.route("/p/", {s.url("e1")}, "round_robin",
            R"(,"rewritePrefix":"/v2/","preserveHost":false,"maxBodySize":"1KiB",)"
            R"("requestHeaders":{"set":{"X-Env":"prod"},"remove":["X-Debug"]},)"
            R"("responseHeaders":{"set":{"X-Served-By":"module"},"remove":["Content-Type"]},)"
            R"("timeouts":{"read":"300ms"})");
    AppServer app(s.store(), nullptr);
    s.awaitStatusChange(app.port(), "/p/x", 404);
    auto res = http(app.port(), "GET", "/p/x?q=1", "", {{"X-Env", "dev"}, {"X-Debug", "1"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 200, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("/v2/x?q=1"), field(res.body, "path"));
    CPPUNIT_ASSERT_EQUAL("127.0.0.1:" + std::to_string(echo), echoedHeader(res.body, "host"));
    CPPUNIT_ASSERT_EQUAL(std::string("prod"), echoedHeader(res.body, "x-env"));
    CPPUNIT_ASSERT(!echoHasHeader(res.body, "x-debug"));
    CPPUNIT_ASSERT_EQUAL(std::string("module"), res.header("x-served-by"));
    CPPUNIT_ASSERT_EQUAL(std::string(), res.header("content-type"));
    res = http(app.port(), "POST", "/p/x", std::string(2048, 'b'));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 413, res.status);
    res = httpChunked(app.port(), "POST", "/p/x", std::string(4096, 'b'));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body + res.error, 413, res.status);
    res = http(app.port(), "POST", "/p/x", std::string(1024, 's'));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 200, res.status);
    const auto start = std::chrono::steady_clock::now();
    res = http(app.port(), "GET", "/p/x?delay=3s");
    const auto took = std::chrono::steady_clock::now() - start;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 504, res.status);
    CPPUNIT_ASSERT(took < std::chrono::milliseconds(2500));
  }

  void testModuleBesideApplicationRoutes() {
    Stack s;
    s.echo("e1");
    s.route("/proxy/", {s.url("e1")});
    AppServer app(s.store(), Poco::makeShared<AppFactory>());
    auto res = http(app.port(), "GET", "/ping");
    CPPUNIT_ASSERT_EQUAL(200, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("pong"), res.body);
    res = http(app.port(), "GET", "/proxy/a?b=1");
    CPPUNIT_ASSERT_EQUAL(200, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("e1"), field(res.body, "name"));
    CPPUNIT_ASSERT_EQUAL(std::string("/a?b=1"), field(res.body, "path"));
    res = http(app.port(), "GET", "/elsewhere");
    CPPUNIT_ASSERT_EQUAL(404, res.status);
    CPPUNIT_ASSERT_EQUAL(std::string("app: not found"), res.body);
    // The module follows the store: a route created now is served, /ping still is the app's.
    s.echo("e2");
    s.route("/api/", {s.url("e2")});
    CPPUNIT_ASSERT(waitUntil(
        [&] { return tryField(http(app.port(), "GET", "/api/x").body, "name") == "e2"; }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string("pong"), http(app.port(), "GET", "/ping").body);
  }

  void testModuleReachesHttpsTargets() {
    Stack s;
    TestCertificates certs(s.dir().path());
    certs.issue("good", {"localhost"});
    certs.issue("wrong", {"other.test"});
    const int good = s.echo(
        "good", {"--tls-cert=" + certs.certificate("good"), "--tls-key=" + certs.key("good")});
    const int wrong = s.echo(
        "wrong", {"--tls-cert=" + certs.certificate("wrong"), "--tls-key=" + certs.key("wrong")});
    s.route("/good/", {"https://localhost:" + std::to_string(good)});
    s.route("/wrong/", {"https://localhost:" + std::to_string(wrong)});
    AppServer app(s.store(), nullptr, certs.ca());
    for (int i = 0; i < 3; ++i) {
      const auto res = http(app.port(), "POST", "/good/x", "body");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 200, res.status);
      CPPUNIT_ASSERT_EQUAL(std::string("good"), field(res.body, "name"));
      CPPUNIT_ASSERT_EQUAL(std::string("4"), field(res.body, "bodyLength"));
    }
    const auto res = http(app.port(), "GET", "/wrong/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(res.body, 502, res.status);
    CPPUNIT_ASSERT_MESSAGE(res.body,
                           field(res.body, "error").find("hostname mismatch") != std::string::npos);
  }

  void testWithoutFallbackUnmatchedIs404Json() {
    Stack s;
    s.echo("e1");
    s.route("/proxy/", {s.url("e1")});
    AppServer app(s.store(), nullptr);
    const auto res = http(app.port(), "GET", "/ping");
    CPPUNIT_ASSERT_EQUAL(404, res.status);
    CPPUNIT_ASSERT(!field(res.body, "error").empty());
    CPPUNIT_ASSERT_EQUAL(200, http(app.port(), "GET", "/proxy/").status);
  }

  void testWaitsForStoreThatDoesNotExistYet() {
    TempDir dir;
    const std::string store = dir.file("later/portico.db");
    AppServer app(store, Poco::makeShared<AppFactory>());
    CPPUNIT_ASSERT_EQUAL(std::string("pong"), http(app.port(), "GET", "/ping").body);
    CPPUNIT_ASSERT_EQUAL(404, http(app.port(), "GET", "/proxy/").status);
    // The sidecar creates the store afterwards; the module picks it up.
    const int echoPort = freePort();
    ChildProcess echo(binary("portico-echo"), {"--port=" + std::to_string(echoPort), "--name=late"},
                      dir.file("echo.log"), dir.path());
    CPPUNIT_ASSERT(waitForPort(echoPort));
    const int adminPort = freePort();
    ChildProcess sidecar(
        binary("portico-sidecar"),
        {"--define=store.path=" + store, "--define=admin.port=" + std::to_string(adminPort)},
        dir.file("sidecar.log"), dir.path());
    CPPUNIT_ASSERT(waitForPort(adminPort));
    const auto created = http(adminPort, "POST", "/endpoints/routes",
                              "{\"prefixPath\":\"/proxy/\",\"targets\":[\"http://127.0.0.1:" +
                                  std::to_string(echoPort) + "\"]}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 201, created.status);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return tryField(http(app.port(), "GET", "/proxy/").body, "name") == "late"; }, 5s));
  }

  void testModuleHonoursWeightsAndStates() {
    Stack s;
    s.echo("light");
    s.echo("heavy");
    const auto created =
        s.admin("POST", "/endpoints/routes",
                "{\"prefixPath\":\"/w/\",\"targets\":[{\"target\":" + quoted(s.url("light")) +
                    ",\"weight\":1},{\"target\":" + quoted(s.url("heavy")) + ",\"weight\":3}]}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(created.body, 201, created.status);
    AppServer app(s.store(), Poco::makeShared<AppFactory>());
    CPPUNIT_ASSERT(waitUntil([&] { return http(app.port(), "GET", "/w/").status == 200; }, 5s));
    // One keep-alive connection is served by one handler thread, whose own rotation follows
    // smooth weighted round robin exactly: 1:3 in every 4 requests.
    KeepAliveClient client(app.port());
    int light = 0;
    for (int i = 0; i < 40; ++i) {
      const auto r = client.get("/w/x");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      if (field(r.body, "name") == "light") ++light;
    }
    CPPUNIT_ASSERT_EQUAL(10, light);
    // Draining and disabling reach the module too; with neither in rotation the 503 says why.
    s.admin("PATCH", "/endpoints?prefixPath=/w/&target=" + s.url("heavy"),
            R"({"state":"draining"})");
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          for (int i = 0; i < 4; ++i)
            if (tryField(client.get("/w/x").body, "name") != "light") return false;
          return true;
        },
        5s));
    s.admin("PATCH", "/endpoints?prefixPath=/w/&target=" + s.url("light"), R"({"weight":0})");
    HttpResult none;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          none = http(app.port(), "GET", "/w/");
          return none.status == 503;
        },
        5s));
    CPPUNIT_ASSERT_EQUAL(
        std::string("no target in rotation for route /w/ (1 draining, 1 with weight 0)"),
        field(none.body, "error"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyModuleTest);
