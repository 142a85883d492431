#include <cppunit/extensions/HelperMacros.h>

#include <thread>

#include "e2e/ProxyTestHarness.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;

namespace {

/// An HTTPS echo backend whose certificate, signed by the test CA, names `names` (and
/// 127.0.0.1), and a proxy with `defines` (one event loop, so one pool) that reaches it at
/// https://localhost:port through route /proxy/.
struct HttpsTarget {
  Stack stack;
  TestCertificates certs{stack.dir().path()};
  int echoPort{0};
  int proxy{0};
  std::string target;

  /// `testCa`: the proxy trusts the test CA (upstream_tls.ca_file), else the system's store.
  explicit HttpsTarget(const std::vector<std::string>& names, std::vector<std::string> defines,
                       const std::string& host = "localhost", bool testCa = true) {
    certs.issue("backend", names, {"127.0.0.1"});
    if (testCa) defines.push_back("upstream_tls.ca_file=" + certs.ca());
    echoPort = stack.echo(
        "tls", {"--tls-cert=" + certs.certificate("backend"), "--tls-key=" + certs.key("backend")});
    defines.push_back("proxy.workers=1");
    proxy = stack.proxy(defines);
    target = "https://" + host + ":" + std::to_string(echoPort);
    stack.routeServed(proxy, "/proxy/", {target});
  }

  std::string metrics() { return http(stack.statusPort(proxy), "GET", "/metrics").body; }
  double handshakes(bool resumed) {
    return metric(metrics(), std::string("portico_upstream_tls_handshakes_total{resumed=\"") +
                                 (resumed ? "true" : "false") + "\"}");
  }
};

}  // namespace

/// https targets: TLS to the target with SNI and verification, pooled TLS connections and
/// resumed sessions, and a 502 that names the reason when the handshake or verification fails.
class ProxyHttpsTargetTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyHttpsTargetTest);
  CPPUNIT_TEST(testVerifiedTargetServedOverPooledConnections);
  CPPUNIT_TEST(testSecondConnectionResumesTheSession);
  CPPUNIT_TEST(testWrongNameIs502NamingTheReason);
  CPPUNIT_TEST(testUnknownIssuerIs502);
  CPPUNIT_TEST(testPlainBackendBehindHttpsUrlIs502);
  CPPUNIT_TEST(testVerificationOffWarnsAndConnects);
  CPPUNIT_TEST(testAddressTargetVerifiedByIp);
  CPPUNIT_TEST(testUnreadableCaBundleRefusedAtStart);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testVerifiedTargetServedOverPooledConnections() {
    HttpsTarget t({"localhost"}, {});
    for (int i = 0; i < 20; ++i) {
      const auto r = http(t.proxy, "POST", "/proxy/item?i=" + std::to_string(i), "payload");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
      CPPUNIT_ASSERT_EQUAL(std::string("tls"), field(r.body, "name"));
      CPPUNIT_ASSERT_EQUAL(std::string("/item?i=" + std::to_string(i)), field(r.body, "path"));
      CPPUNIT_ASSERT_EQUAL(std::string("7"), field(r.body, "bodyLength"));
    }
    // Twenty requests one after the other: one handshake, the connection kept in the pool.
    CPPUNIT_ASSERT_EQUAL(1.0, t.handshakes(false) + t.handshakes(true));
    CPPUNIT_ASSERT_EQUAL(1, connectionsTo(t.echoPort));
  }

  void testSecondConnectionResumesTheSession() {
    HttpsTarget t({"localhost"}, {});
    CPPUNIT_ASSERT_EQUAL(200, http(t.proxy, "GET", "/proxy/first").status);
    // Two requests at once: one takes the pooled connection, the other needs a second one,
    // which resumes the session the first connection left.
    int statuses[2] = {0, 0};
    std::thread a([&] { statuses[0] = http(t.proxy, "GET", "/proxy/a?delay=400ms").status; });
    std::thread b([&] { statuses[1] = http(t.proxy, "GET", "/proxy/b?delay=400ms").status; });
    a.join();
    b.join();
    CPPUNIT_ASSERT_EQUAL(200, statuses[0]);
    CPPUNIT_ASSERT_EQUAL(200, statuses[1]);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(t.metrics(), 1.0, t.handshakes(false));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(t.metrics(), 1.0, t.handshakes(true));
  }

  void testWrongNameIs502NamingTheReason() {
    HttpsTarget t({"other.test"}, {});
    const std::string labels = "{route=\"/proxy/\",target=\"" + t.target + "\"}";
    // The series appears with the target's first failure (none before: it never failed).
    const double before = metric(t.metrics(), "portico_upstream_connect_failures_total" + labels);
    const double failedBefore = std::isnan(before) ? 0 : before;
    const auto r = http(t.proxy, "GET", "/proxy/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 502, r.status);
    const std::string error = field(r.body, "error");
    CPPUNIT_ASSERT_MESSAGE(error,
                           error.find("certificate verification failed") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(error, error.find("hostname mismatch") != std::string::npos);
    // A failed handshake counts as a failed connect: counted, and the target passed over.
    const std::string m = t.metrics();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, failedBefore + 1,
                                 metric(m, "portico_upstream_connect_failures_total" + labels));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 1.0, metric(m, "portico_target_in_cooldown" + labels));
    CPPUNIT_ASSERT_EQUAL(0.0, t.handshakes(false));
  }

  void testUnknownIssuerIs502() {
    // No upstream_tls.ca_file: the system's CA store does not know the test CA.
    HttpsTarget t({"localhost"}, {}, "localhost", false);
    const auto r = http(t.proxy, "GET", "/proxy/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 502, r.status);
    CPPUNIT_ASSERT_MESSAGE(
        r.body, r.body.find("unable to get local issuer certificate") != std::string::npos);
  }

  void testPlainBackendBehindHttpsUrlIs502() {
    Stack s;
    const int plain = s.echo("plain");
    // A plain HTTP server answers the ClientHello with a 400 (the handshake fails) or waits for
    // the rest of a request head (it times out): either way a 502 saying so.
    const int proxy = s.proxy({"proxy.connect_timeout=300ms"});
    s.routeServed(proxy, "/proxy/", {"https://127.0.0.1:" + std::to_string(plain)});
    const auto r = http(proxy, "GET", "/proxy/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 502, r.status);
    CPPUNIT_ASSERT_MESSAGE(
        r.body, r.body.find("TLS handshake with 127.0.0.1:" + std::to_string(plain) + ": ") !=
                    std::string::npos);
  }

  void testVerificationOffWarnsAndConnects() {
    HttpsTarget t({"other.test"}, {"upstream_tls.verify=false"});
    const auto r = http(t.proxy, "GET", "/proxy/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    const std::string log = t.stack.lastProxy().log();
    CPPUNIT_ASSERT_MESSAGE(log, log.find("upstream_tls.verify=false") != std::string::npos &&
                                    log.find(" warn ") != std::string::npos);
  }

  void testAddressTargetVerifiedByIp() {
    // A target given by address is checked against the certificate's IP addresses (no SNI):
    // the certificate names backend.test and 127.0.0.1.
    HttpsTarget t({"backend.test"}, {}, "127.0.0.1");
    const auto r = http(t.proxy, "GET", "/proxy/x");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
  }

  void testUnreadableCaBundleRefusedAtStart() {
    Stack s;
    ChildProcess refused(
        binary("portico-proxy"),
        {"--define=store.path=" + s.store(), "--define=proxy.port=" + std::to_string(freePort()),
         "--define=proxy.status_port=off",
         "--define=upstream_tls.ca_file=" + s.dir().file("missing.pem")},
        s.dir().file("refused.log"), s.dir().path());
    const auto status = refused.wait(10s);
    CPPUNIT_ASSERT(status.has_value());
    CPPUNIT_ASSERT(*status != 0);
    CPPUNIT_ASSERT_MESSAGE(refused.log(),
                           refused.log().find("upstream_tls.ca_file") != std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyHttpsTargetTest);
