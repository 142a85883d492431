// gRPC through Portico (issue #21): a real gRPC server and client (tests/e2e/grpc_peer.py on
// Debian's python3-grpcio) with the proxy between them, clients over h2c on the plain port,
// the route speaking HTTP/2 to the server (upstreamProtocol "h2"). Unary, server-streaming
// (10,000 messages), client-streaming and bidirectional calls; status, message and trailing
// metadata intact; a deadline cancels the server's work (the client's own, and the proxy's timer
// on grpc-timeout); the read timeout bounds the wait for an answer but not the gap between a
// stream's messages; a client's cancel reaches the server; many concurrent streams share a few
// upstream connections, which close once idle.

#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "e2e/ProxyTestHarness.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;

namespace {

const std::string kPython = "/usr/bin/python3";  // Debian's, where python3-grpcio installs

std::string peerScript() {
  return sourceDir() + "/tests/e2e/grpc_peer.py";
}

/// A proxy, the gRPC server behind route /portico.test.Echo/ with upstreamProtocol h2.
struct GrpcStack {
  Stack stack;
  std::unique_ptr<ChildProcess> server;
  std::unique_ptr<ChildProcess> tlsServer;
  std::unique_ptr<TestCertificates> certs;
  int grpcPort{0};
  int tlsPort{0};
  int proxy{0};

  /// `tls`: a second server, over TLS with a certificate of the test CA (which the proxy
  /// trusts), on tlsPort.
  explicit GrpcStack(bool tls = false) {
    ChildProcess probe(kPython, {"-c", "import grpc"}, stack.dir().file("probe.log"));
    if (probe.wait(30s).value_or(-1) != 0)
      skipTest("grpc for " + kPython + " (package python3-grpcio, scripts/deps.sh)");
    grpcPort = freePort();
    server = std::make_unique<ChildProcess>(
        kPython,
        std::vector<std::string>{peerScript(), "serve", "--port=" + std::to_string(grpcPort),
                                 "--name=g1"},
        stack.dir().file("grpc-server.log"));
    if (!waitForPort(grpcPort, 20s)) CPPUNIT_FAIL("gRPC server did not start: " + server->log());
    std::vector<std::string> defines;
    if (tls) {
      certs = std::make_unique<TestCertificates>(stack.dir().path());
      certs->issue("grpc", {"localhost"}, {"127.0.0.1"});
      tlsPort = freePort();
      tlsServer = std::make_unique<ChildProcess>(
          kPython,
          std::vector<std::string>{peerScript(), "serve", "--port=" + std::to_string(tlsPort),
                                   "--name=tls1", "--tls-cert=" + certs->certificate("grpc"),
                                   "--tls-key=" + certs->key("grpc")},
          stack.dir().file("grpc-tls-server.log"));
      if (!waitForPort(tlsPort, 20s))
        CPPUNIT_FAIL("gRPC TLS server did not start: " + tlsServer->log());
      defines.push_back("upstream_tls.ca_file=" + certs->ca());
    }
    proxy = stack.proxy(defines);
    // The target's base path keeps the service in the path (the prefix is stripped).
    stack.route("/portico.test.Echo/",
                {"http://127.0.0.1:" + std::to_string(grpcPort) + "/portico.test.Echo"},
                "round_robin", R"(,"upstreamProtocol":"h2")");
    // The same service under a route with a read timeout of 1 s.
    stack.route("/portico.test.Short/",
                {"http://127.0.0.1:" + std::to_string(grpcPort) + "/portico.test.Echo"},
                "round_robin", R"(,"upstreamProtocol":"h2","timeouts":{"read":"1s"})");
    CPPUNIT_ASSERT(
        waitUntil([&] { return call("Unary")->getValue<std::string>("code") == "OK"; }, 10s));
  }

  /// A unary call by curl over h2c (no deadline of its own): `message` framed as gRPC, `headers`
  /// added; what curl -D printed (head, and trailers for a trailers-only answer).
  std::string curlHead(const std::string& path, const std::string& message,
                       const std::vector<std::string>& headers, const std::string& name) {
    const std::string body = stack.dir().file(name + ".bin");
    writeFile(body, std::string("\0\0\0\0", 4) + static_cast<char>(message.size()) + message);
    std::vector<std::string> args{"-sS",
                                  "--http2-prior-knowledge",
                                  "--data-binary",
                                  "@" + body,
                                  "-H",
                                  "content-type: application/grpc",
                                  "-H",
                                  "te: trailers",
                                  "-D",
                                  "-",
                                  "-o",
                                  "/dev/null"};
    for (const auto& h : headers) args.insert(args.end(), {"-H", h});
    args.push_back("http://127.0.0.1:" + std::to_string(proxy) + path);
    ChildProcess curl("/usr/bin/curl", args, stack.dir().file("curl-" + name + ".log"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(curl.log(), 0, curl.wait(30s).value_or(-1));
    return curl.log();
  }

  /// One call through the proxy; the JSON line grpc_peer.py printed.
  Poco::JSON::Object::Ptr call(const std::string& method, const std::string& payload = "hello",
                               const std::string& timeout = "10",
                               const std::string& service = "portico.test.Echo",
                               const std::vector<std::string>& more = {}) {
    std::vector<std::string> args{peerScript(),
                                  "call",
                                  "--target=127.0.0.1:" + std::to_string(proxy),
                                  "--method=" + method,
                                  "--payload=" + payload,
                                  "--timeout=" + timeout,
                                  "--service=" + service};
    args.insert(args.end(), more.begin(), more.end());
    ChildProcess client(kPython, args, stack.dir().file("call-" + method + ".log"));
    const auto status = client.wait(60s);
    if (!status) client.kill9();
    const std::string log = client.log();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log, 0, status.value_or(-1));
    const auto last = log.rfind("\n{");
    return json(log.substr(last == std::string::npos ? log.find('{') : last + 1));
  }
};

std::string text(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  return o->has(name) ? o->getValue<std::string>(name) : "";
}

}  // namespace

class GrpcTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(GrpcTest);
  CPPUNIT_TEST(testFourKindsOfCall);
  CPPUNIT_TEST(testStatusAndDeadline);
  CPPUNIT_TEST(testManyStreamsShareFewConnections);
  CPPUNIT_TEST(testProxyErrorsAreGrpcStatuses);
  CPPUNIT_TEST(testHttp11ClientOnAnHttp2Route);
  CPPUNIT_TEST(testRemovedTargetLosesItsConnections);
  CPPUNIT_TEST(testGrpcTimeoutIsTheProxysDeadline);
  CPPUNIT_TEST(testReadTimeoutBoundsTheAnswerNotTheStream);
  CPPUNIT_TEST(testClientCancelReachesTheServer);
  CPPUNIT_TEST(testIdleUpstreamConnectionCloses);
  CPPUNIT_TEST(testHttp11ClientGetsTrailersWhenItAsks);
  CPPUNIT_TEST(testTlsTargetsByAlpn);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFourKindsOfCall() {
    GrpcStack g;
    auto unary = g.call("Unary", "hello");
    CPPUNIT_ASSERT_EQUAL(std::string("OK"), text(unary, "code"));
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), text(unary, "answer"));
    // Trailing metadata crosses the proxy (HTTP/2 trailers both ways).
    CPPUNIT_ASSERT_EQUAL(std::string("g1"), text(unary->getObject("trailers"), "x-served-by"));

    auto stream = g.call("Stream", "10000");
    CPPUNIT_ASSERT_EQUAL(std::string("OK"), text(stream, "code"));
    CPPUNIT_ASSERT_EQUAL(10000, stream->getValue<int>("count"));
    CPPUNIT_ASSERT_EQUAL(std::string("m9999"), text(stream, "last"));

    auto collect = g.call("Collect", "a,b,c");
    CPPUNIT_ASSERT_EQUAL(std::string("OK"), text(collect, "code"));
    CPPUNIT_ASSERT_EQUAL(std::string("a,b,c"), text(collect, "answer"));

    auto chat = g.call("Chat", "x,y,z");
    CPPUNIT_ASSERT_EQUAL(std::string("OK"), text(chat, "code"));
    auto answers = chat->getArray("answers");
    CPPUNIT_ASSERT_EQUAL(std::size_t{3}, answers->size());
    CPPUNIT_ASSERT_EQUAL(std::string("Z"), answers->getElement<std::string>(2));
  }

  void testStatusAndDeadline() {
    GrpcStack g;
    auto fail = g.call("Fail");
    CPPUNIT_ASSERT_EQUAL(std::string("RESOURCE_EXHAUSTED"), text(fail, "code"));
    CPPUNIT_ASSERT_EQUAL(std::string("no more"), text(fail, "details"));
    // The server takes 5 s; the client gives up after 0.5 s: its cancel (RST_STREAM) reaches the
    // server through the proxy, which resets the upstream stream.
    auto slow = g.call("Slow", "5000", "0.5");
    CPPUNIT_ASSERT_EQUAL(std::string("DEADLINE_EXCEEDED"), text(slow, "code"));
    CPPUNIT_ASSERT_MESSAGE(
        g.server->log(),
        waitUntil([&] { return g.server->log().find("cancelled") != std::string::npos; }, 4s));
  }

  void testGrpcTimeoutIsTheProxysDeadline() {
    // curl has no deadline of its own: only the proxy's timer on grpc-timeout can end the call
    // (the server would answer after 5 s).
    GrpcStack g;
    const auto started = std::chrono::steady_clock::now();
    const std::string head =
        g.curlHead("/portico.test.Echo/Slow", "5000", {"grpc-timeout: 300m"}, "deadline");
    const auto took = std::chrono::steady_clock::now() - started;
    // Trailers-only DEADLINE_EXCEEDED (4), well before the server's 5 s.
    CPPUNIT_ASSERT_MESSAGE(head, head.find("HTTP/2 200") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(head, head.find("grpc-status: 4") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(head, took < 3s);
    // The proxy reset the upstream stream: the server saw the cancel.
    CPPUNIT_ASSERT_MESSAGE(
        g.server->log(),
        waitUntil([&] { return g.server->log().find("cancelled") != std::string::npos; }, 4s));
  }

  void testReadTimeoutBoundsTheAnswerNotTheStream() {
    GrpcStack g;
    // /portico.test.Short/ has a read timeout of 1 s; the server answers after 3 s. curl sends
    // no grpc-timeout: the read timeout alone ends the wait for the answer's head.
    const auto started = std::chrono::steady_clock::now();
    const std::string head = g.curlHead("/portico.test.Short/Slow", "3000", {}, "read-timeout");
    CPPUNIT_ASSERT_MESSAGE(head, head.find("grpc-status: 4") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(head, head.find("did not answer within 1s") != std::string::npos);
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - started < 2800ms);
    CPPUNIT_ASSERT_MESSAGE(
        g.server->log(),
        waitUntil([&] { return g.server->log().find("cancelled") != std::string::npos; }, 4s));
    // A gRPC stream's messages 1.5 s apart are not cut by the 1 s read timeout.
    auto drip = g.call("Drip", "3,1500", "10", "portico.test.Short");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(text(drip, "details"), std::string("OK"), text(drip, "code"));
    CPPUNIT_ASSERT_EQUAL(3, drip->getValue<int>("count"));
    CPPUNIT_ASSERT_EQUAL(std::string("g1"), text(drip->getObject("trailers"), "x-served-by"));
  }

  void testClientCancelReachesTheServer() {
    GrpcStack g;
    // No deadline: the client cancels the call itself half a second in.
    auto cancelled = g.call("Slow", "5000", "10", "portico.test.Echo", {"--cancel-after=0.5"});
    CPPUNIT_ASSERT(cancelled->getValue<bool>("cancelled"));
    CPPUNIT_ASSERT_MESSAGE(
        g.server->log(),
        waitUntil([&] { return g.server->log().find("cancelled") != std::string::npos; }, 4s));
  }

  void testIdleUpstreamConnectionCloses() {
    GrpcStack g;
    CPPUNIT_ASSERT(connectionsTo(g.grpcPort) >= 1);  // the setup's calls left one open
    // Closed after the upstream idle time (8 s) without a stream, as idle HTTP/1.1 ones are.
    CPPUNIT_ASSERT_MESSAGE(std::to_string(connectionsTo(g.grpcPort)),
                           waitUntil([&] { return connectionsTo(g.grpcPort) == 0; }, 20s));
    auto again = g.call("Unary");
    CPPUNIT_ASSERT_EQUAL(std::string("OK"), text(again, "code"));
  }

  void testHttp11ClientOnAnHttp2Route() {
    // The same request path serves an HTTP/1.1 client: the route's HTTP/2 is the last hop only.
    GrpcStack g;
    const std::string body = g.stack.dir().file("unary.bin");
    writeFile(body, std::string("\0\0\0\0\5hello", 10));
    const std::string answer = g.stack.dir().file("answer.bin");
    ChildProcess curl("/usr/bin/curl",
                      {"-sS", "--http1.1", "--data-binary", "@" + body, "-H",
                       "content-type: application/grpc", "-H", "te: trailers", "-o", answer, "-w",
                       "%{http_version} %{response_code} %{content_type}",
                       "http://127.0.0.1:" + std::to_string(g.proxy) + "/portico.test.Echo/Unary"},
                      g.stack.dir().file("curl.log"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(curl.log(), 0, curl.wait(30s).value_or(-1));
    CPPUNIT_ASSERT_EQUAL(std::string("1.1 200 application/grpc"), curl.log());
    std::ifstream in(answer, std::ios::binary);
    const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(got.size()), std::size_t{10}, got.size());
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), got.substr(5));
  }

  void testHttp11ClientGetsTrailersWhenItAsks() {
    // An HTTP/1.1 client that sent "TE: trailers" gets the target's trailers after the last
    // chunk (curl -D writes them after the head); one that did not gets none.
    GrpcStack g;
    const std::string body = g.stack.dir().file("unary.bin");
    writeFile(body, std::string("\0\0\0\0\5hello", 10));
    auto fetch = [&](bool te, const std::string& name) {
      std::vector<std::string> args{"-sS",      "--http1.1", "--data-binary",
                                    "@" + body, "-H",        "content-type: application/grpc",
                                    "-D",       "-",         "-o",
                                    "/dev/null"};
      if (te) args.insert(args.end(), {"-H", "te: trailers"});
      args.push_back("http://127.0.0.1:" + std::to_string(g.proxy) + "/portico.test.Echo/Unary");
      ChildProcess curl("/usr/bin/curl", args, g.stack.dir().file(name));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(curl.log(), 0, curl.wait(30s).value_or(-1));
      return curl.log();
    };
    const std::string with = fetch(true, "curl-te.log");
    CPPUNIT_ASSERT_MESSAGE(with, with.find("Transfer-Encoding: chunked") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(with, with.find("grpc-status: 0") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(with, with.find("x-served-by: g1") != std::string::npos);
    // Without it, no TE reaches the target either (a gRPC server refuses the call for that:
    // "Missing :te header", in a trailers-only answer), and no trailer section follows.
    const std::string without = fetch(false, "curl-no-te.log");
    CPPUNIT_ASSERT_MESSAGE(without, without.find("HTTP/1.1 200") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(without, without.find("grpc-status: 0") == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(without, without.find("x-served-by") == std::string::npos);
  }

  void testTlsTargetsByAlpn() {
    GrpcStack g(true);
    const std::string tlsTarget =
        "https://localhost:" + std::to_string(g.tlsPort) + "/portico.test.Echo";
    // "h2": ALPN h2 alone; "auto": the target's choice (h2 here).
    g.stack.route("/portico.test.Tls/", {tlsTarget}, "round_robin", R"(,"upstreamProtocol":"h2")");
    g.stack.route("/portico.test.Auto/", {tlsTarget}, "round_robin",
                  R"(,"upstreamProtocol":"auto")");
    // An https target that speaks HTTP/1.1 only (portico-echo over TLS).
    g.certs->issue("echo", {"localhost"}, {"127.0.0.1"});
    const int echo = g.stack.echo(
        "tls", {"--tls-cert=" + g.certs->certificate("echo"), "--tls-key=" + g.certs->key("echo")});
    const std::string echoTarget = "https://localhost:" + std::to_string(echo);
    g.stack.route("/h2only/", {echoTarget}, "round_robin", R"(,"upstreamProtocol":"h2")");
    g.stack.route("/auto/", {echoTarget}, "round_robin", R"(,"upstreamProtocol":"auto")");
    g.stack.awaitProxyRevision(g.proxy, g.stack.storeRevision());

    for (const std::string service : {"portico.test.Tls", "portico.test.Auto"}) {
      auto unary = g.call("Unary", "over tls", "10", service);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(service + " " + text(unary, "details"), std::string("OK"),
                                   text(unary, "code"));
      CPPUNIT_ASSERT_EQUAL(std::string("over tls"), text(unary, "answer"));
      CPPUNIT_ASSERT_EQUAL(std::string("tls1"), text(unary->getObject("trailers"), "x-served-by"));
      auto stream = g.call("Stream", "1000", "10", service);
      CPPUNIT_ASSERT_EQUAL(1000, stream->getValue<int>("count"));
      auto chat = g.call("Chat", "a,b", "10", service);
      CPPUNIT_ASSERT_EQUAL(std::string("OK"), text(chat, "code"));
    }
    // "h2" to a target that does not offer it: a clear 502, and a log line saying why.
    const auto refused = http(g.proxy, "GET", "/h2only/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.body, 502, refused.status);
    CPPUNIT_ASSERT_MESSAGE(refused.body,
                           refused.body.find("does not offer h2") != std::string::npos);
    CPPUNIT_ASSERT(g.stack.lastProxy().log().find("does not offer h2") != std::string::npos);
    // "auto" to the same target: HTTP/1.1, as it chose.
    const auto spoken = http(g.proxy, "GET", "/auto/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(spoken.body, 200, spoken.status);
  }

  void testRemovedTargetLosesItsConnections() {
    GrpcStack g;
    CPPUNIT_ASSERT(connectionsTo(g.grpcPort) >= 1);  // the setup's calls left one open
    g.stack.remove("/portico.test.Echo/",
                   {"http://127.0.0.1:" + std::to_string(g.grpcPort) + "/portico.test.Echo"});
    // The proxy's HTTP/2 connections to a target that left close (no stream was open).
    CPPUNIT_ASSERT_MESSAGE(std::to_string(connectionsTo(g.grpcPort)),
                           waitUntil([&] { return connectionsTo(g.grpcPort) == 0; }, 10s));
  }

  void testProxyErrorsAreGrpcStatuses() {
    GrpcStack g;
    // No route: UNIMPLEMENTED, the proxy's message in grpc-message.
    auto none = g.call("Unary", "x", "10", "portico.test.Missing");
    CPPUNIT_ASSERT_EQUAL(std::string("UNIMPLEMENTED"), text(none, "code"));
    CPPUNIT_ASSERT_MESSAGE(text(none, "details"),
                           text(none, "details").find("portico.test.Missing") != std::string::npos);
    // A target that refuses connections: UNAVAILABLE.
    g.stack.route("/portico.test.Down/", {"http://127.0.0.1:" + std::to_string(freePort())},
                  "round_robin", R"(,"upstreamProtocol":"h2")");
    Poco::JSON::Object::Ptr down;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          down = g.call("Unary", "x", "10", "portico.test.Down");
          return text(down, "code") != "UNIMPLEMENTED";  // until the proxy has the route
        },
        10s));
    CPPUNIT_ASSERT_EQUAL(std::string("UNAVAILABLE"), text(down, "code"));
    // Refused connects (502) or, once the health checker saw it, no healthy target (503).
    const std::string why = text(down, "details");
    CPPUNIT_ASSERT_MESSAGE(why, why.find("accepted a connection") != std::string::npos ||
                                    why.find("no healthy target") != std::string::npos);
  }

  void testManyStreamsShareFewConnections() {
    if (::access("/usr/bin/h2load", X_OK) != 0)
      skipTest("h2load (package nghttp2-client, scripts/deps.sh)");
    GrpcStack g;
    // A unary call's body: the gRPC frame of a 5-byte message.
    const std::string body = g.stack.dir().file("unary.bin");
    writeFile(body, std::string("\0\0\0\0\5hello", 10));
    ChildProcess load("/usr/bin/h2load",
                      {"-n", "4000", "-c", "2", "-m", "100", "-d", body, "-H",
                       "content-type: application/grpc", "-H", "te: trailers",
                       "http://127.0.0.1:" + std::to_string(g.proxy) + "/portico.test.Echo/Unary"},
                      g.stack.dir().file("h2load.log"));
    // Sampled while the load runs (bounded: h2load is killed after a minute).
    int most = 0;
    waitUntil(
        [&] {
          most = std::max(most, connectionsTo(g.grpcPort));
          return !load.running();
        },
        60s, std::chrono::milliseconds(10));
    const std::string out = load.log();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, load.wait(60s).value_or(-1));
    CPPUNIT_ASSERT_MESSAGE(out, out.find("status codes: 4000 2xx") != std::string::npos);
    // 200 streams at once to one target: the proxy's loops multiplex them (one connection
    // each, more only past the target's SETTINGS_MAX_CONCURRENT_STREAMS).
    std::cerr << "upstream connections for 200 concurrent streams: " << most << "\n";
    CPPUNIT_ASSERT_MESSAGE(std::to_string(most), most >= 1 && most <= 4);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GrpcTest);
