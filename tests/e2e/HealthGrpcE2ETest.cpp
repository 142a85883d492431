// gRPC health checks (issue #21 point 5): the real portico-sidecar probing a real gRPC server
// (tests/e2e/grpc_health_peer.py on Debian's python3-grpcio) that implements
// grpc.health.v1.Health, over h2c and over TLS with ALPN h2.
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <memory>

#include "e2e/SidecarHarness.h"
#include "support/TestSupport.h"
#include "support/TlsTestSupport.h"

using namespace std::chrono_literals;
using namespace portico::test;

namespace {

const std::string kPython = "/usr/bin/python3";  // Debian's, where python3-grpcio installs

/// A grpc_health_peer.py server whose status follows the file `state` (SERVING, NOT_SERVING).
struct HealthServer {
  int port{0};
  std::string state;
  std::unique_ptr<ChildProcess> process;

  HealthServer(const TempDir& dir, const std::string& name, const std::string& tls = "") {
    ChildProcess probe(kPython, {"-c", "import grpc"}, dir.file(name + "-probe.log"));
    if (probe.wait(30s).value_or(-1) != 0)
      skipTest("grpc for " + kPython + " (package python3-grpcio, scripts/deps.sh)");
    port = freePort();
    state = dir.file(name + ".state");
    set("SERVING");
    std::vector<std::string> args{sourceDir() + "/tests/e2e/grpc_health_peer.py",
                                  "--port=" + std::to_string(port), "--state=" + state};
    if (!tls.empty()) args.push_back("--tls=" + tls);
    process = std::make_unique<ChildProcess>(kPython, args, dir.file(name + ".log"));
    if (!waitForPort(port, 20s))
      CPPUNIT_FAIL("gRPC health server did not start: " + process->log());
  }
  void set(const std::string& status) const {
    std::ofstream(state, std::ios::trunc) << status << "\n";
  }
};

std::unique_ptr<Sidecar> startSidecar(const TempDir& dir, std::vector<std::string> defines) {
  std::vector<std::string> args;
  for (const auto& d : defines) args.push_back("--define=" + d);
  auto sidecar = std::make_unique<Sidecar>(dir, args);
  CPPUNIT_ASSERT_MESSAGE(sidecar->process().log(), sidecar->ready());
  return sidecar;
}

/// `url` is checked and stays healthy while `server` is SERVING; then NOT_SERVING marks it down
/// with that reason.
void healthyThenNotServing(Sidecar& sidecar, const HealthServer& server, const std::string& url) {
  CPPUNIT_ASSERT(waitUntil([&] { return !sidecar.stored(url, "last_checked_at").empty(); }, 5s));
  CPPUNIT_ASSERT(holdsFor([&] { return sidecar.stored(url) == "1"; }, 500ms));
  server.set("NOT_SERVING");
  CPPUNIT_ASSERT(waitUntil([&] { return sidecar.stored(url) == "0"; }, 5s, 5ms));
  CPPUNIT_ASSERT_EQUAL(std::string("grpc status NOT_SERVING"), sidecar.stored(url, "last_error"));
}

}  // namespace

class HealthGrpcE2ETest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthGrpcE2ETest);
  CPPUNIT_TEST(testNotServingDownThenUp);
  CPPUNIT_TEST(testUnknownServiceIsDown);
  CPPUNIT_TEST(testTlsWithAlpnH2);
  CPPUNIT_TEST(testHttpServerIsNotGrpc);
  CPPUNIT_TEST(testBadGrpcServiceIsRefused);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// SERVING is healthy; NOT_SERVING marks the target down with the reason in lastError;
  /// SERVING again brings it back.
  void testNotServingDownThenUp() {
    TempDir dir;
    HealthServer server(dir, "g1");
    auto sidecar = startSidecar(dir, {"health.interval=200ms", "health.timeout=1s"});
    const auto url = "http://127.0.0.1:" + std::to_string(server.port);
    sidecar->createRoute("/grpc/", {url}, R"({"type":"grpc","grpcService":"portico.test.Echo"})");
    healthyThenNotServing(*sidecar, server, url);
    CPPUNIT_ASSERT_EQUAL(std::string("grpc status NOT_SERVING"),
                         sidecar->list("/grpc/").at(url)->getValue<std::string>("lastError"));

    server.set("SERVING");
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar->stored(url) == "1"; }, 5s, 5ms));
    CPPUNIT_ASSERT_EQUAL(std::string("true"), sidecar->listed("/grpc/", url));
  }

  /// A service the server does not know: grpc's own answer (NOT_FOUND) is the reason.
  void testUnknownServiceIsDown() {
    TempDir dir;
    HealthServer server(dir, "g1");
    auto sidecar = startSidecar(dir, {"health.interval=200ms", "health.timeout=1s"});
    const auto url = "http://127.0.0.1:" + std::to_string(server.port);
    sidecar->createRoute("/whole/", {url}, R"({"type":"grpc"})");  // "": the whole server
    sidecar->createRoute("/nope/", {url}, R"({"type":"grpc","grpcService":"no.Such"})");
    const auto onRoute = [&](const std::string& prefix, const std::string& column) {
      return sqlite(sidecar->db(), "SELECT t." + column +
                                       " FROM targets t JOIN routes r ON r.id = t.route_id "
                                       "WHERE r.prefix = '" +
                                       prefix + "'");
    };
    CPPUNIT_ASSERT(waitUntil([&] { return onRoute("/nope/", "healthy") == "0"; }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc-status 5: unknown service"),
                         onRoute("/nope/", "last_error"));
    CPPUNIT_ASSERT(waitUntil([&] { return !onRoute("/whole/", "last_checked_at").empty(); }, 5s));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), onRoute("/whole/", "healthy"));
  }

  /// An https target: TLS with ALPN h2, the certificate checked against the CA.
  void testTlsWithAlpnH2() {
    TempDir dir;
    TestCertificates certs(dir.path());
    certs.issue("good", {"localhost"});
    HealthServer server(dir, "g1", certs.certificate("good") + ":" + certs.key("good"));
    auto sidecar = startSidecar(
        dir, {"health.interval=200ms", "health.timeout=1s", "upstream_tls.ca_file=" + certs.ca()});
    const auto url = "https://localhost:" + std::to_string(server.port);
    sidecar->createRoute("/grpcs/", {url}, R"({"type":"grpc"})");
    healthyThenNotServing(*sidecar, server, url);
  }

  /// A target that speaks HTTP/1.1 only (Python's http.server answers the HTTP/2 preface with
  /// an HTTP/1.x error) is not a gRPC server.
  void testHttpServerIsNotGrpc() {
    TempDir dir;
    const int port = freePort();
    ChildProcess http1(kPython, {"-m", "http.server", "--bind", "127.0.0.1", std::to_string(port)},
                       dir.file("http1.log"), dir.path());
    CPPUNIT_ASSERT_MESSAGE(http1.log(), waitForPort(port, 20s));
    auto sidecar = startSidecar(dir, {"health.interval=200ms", "health.timeout=1s"});
    const auto url = "http://127.0.0.1:" + std::to_string(port);
    sidecar->createRoute("/h1/", {url}, R"({"type":"grpc"})");
    CPPUNIT_ASSERT(waitUntil([&] { return sidecar->stored(url) == "0"; }, 5s));
    const std::string error = sidecar->stored(url, "last_error");
    CPPUNIT_ASSERT_MESSAGE(error, error.rfind("grpc: not an HTTP/2 answer", 0) == 0);
  }

  /// The API refuses a grpcService that cannot be a protobuf service name, naming the field.
  void testBadGrpcServiceIsRefused() {
    TempDir dir;
    auto sidecar = startSidecar(dir, {});
    const auto r = sidecar->request("POST", "/endpoints/routes",
                                    R"({"prefixPath":"/g/","targets":["http://127.0.0.1:1"],)"
                                    R"("healthCheck":{"type":"grpc","grpcService":"a b"}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find("healthCheck.grpcService") != std::string::npos);
    const auto ok =
        sidecar->request("POST", "/endpoints/routes",
                         R"({"prefixPath":"/g/","targets":["http://127.0.0.1:1"],)"
                         R"("healthCheck":{"type":"grpc","grpcService":"grpc.health.v1.Health"}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(ok.body, 201, ok.status);
    CPPUNIT_ASSERT_MESSAGE(
        ok.body, ok.body.find(R"("grpcService":"grpc.health.v1.Health")") != std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthGrpcE2ETest);
