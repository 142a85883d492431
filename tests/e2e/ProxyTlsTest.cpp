#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>

#include "e2e/ProxyTestHarness.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;

namespace {

/// A route /proxy/ to one echo backend, and a proxy with a TLS listener serving `certs`.
struct TlsStack {
  Stack stack;
  TestCertificates certs{stack.dir().path()};
  int proxy{0};
  int tlsPort{0};

  explicit TlsStack(const std::vector<std::string>& extra = {},
                    const std::vector<std::string>& echoArgs = {}) {
    certs.issue("a", {"a.test", "*.wild.test"});
    certs.issue("b", {"b.test"});
    stack.echo("e1", echoArgs);
    tlsPort = freePort();
    std::vector<std::string> defines = {"proxy.tls.port=" + std::to_string(tlsPort),
                                        "proxy.tls.certificates=" + certs.certificate("a") + ":" +
                                            certs.key("a") + "," + certs.certificate("b") + ":" +
                                            certs.key("b")};
    defines.insert(defines.end(), extra.begin(), extra.end());
    proxy = stack.proxy(defines);
    stack.routeServed(proxy, "/proxy/", {stack.url("e1")});
  }
};

/// The access-log lines (JSON) in `file` by their path.
std::map<std::string, Poco::JSON::Object::Ptr> loggedByPath(const std::string& file) {
  std::map<std::string, Poco::JSON::Object::Ptr> byPath;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto entry = json(line);
    byPath[entry->getValue<std::string>("path")] = entry;
  }
  return byPath;
}

std::string request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: a.test\r\n\r\n";
}

}  // namespace

/// The TLS listener: certificates by SNI, ALPN h2 or http/1.1, certificates re-read on SIGHUP,
/// HTTP/2 streams in numbers and under a reset burst.
class ProxyTlsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyTlsTest);
  CPPUNIT_TEST(testSniPicksTheCertificate);
  CPPUNIT_TEST(testAlpnChoosesHttp2OrHttp11);
  CPPUNIT_TEST(testHttp2RequestsAreLoggedAndCounted);
  CPPUNIT_TEST(testSighupRenewsCertificatesWithoutDroppingConnections);
  CPPUNIT_TEST(testUnusableCertificatesOnStartAndOnSighup);
  CPPUNIT_TEST(testManyStreamsToASlowTarget);
  CPPUNIT_TEST(testResetBurstDoesNotStallOthers);
  CPPUNIT_TEST(testHeaderTimeoutCountsFromTheAccept);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSniPicksTheCertificate() {
    TlsStack t;
    const struct {
      const char* sni;
      const char* cn;
    } rows[] = {{"a.test", "a.test"}, {"b.test", "b.test"},      {"x.wild.test", "a.test"},
                {"B.TEST", "b.test"}, {"nobody.test", "a.test"}, {"", "a.test"}};
    for (const auto& r : rows) {
      TlsClient c(t.tlsPort, r.sni, {"http/1.1"});
      CPPUNIT_ASSERT_MESSAGE(std::string(r.sni) + ": " + c.error(), c.connected());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.sni, std::string(r.cn), c.peerCommonName());
      c.send(request("/proxy/sni"));
      const std::string answer = c.readUntil("\"bodyFnv1a\"");
      CPPUNIT_ASSERT_MESSAGE(answer, answer.rfind("HTTP/1.1 200", 0) == 0);
    }
  }

  void testAlpnChoosesHttp2OrHttp11() {
    TlsStack t;
    {
      TlsClient c(t.tlsPort, "a.test", {"h2", "http/1.1"});
      CPPUNIT_ASSERT_EQUAL(std::string("h2"), c.protocol());
      Http2TestClient h2(c);
      const auto id = h2.get("/proxy/over-h2", "a.test");
      CPPUNIT_ASSERT(h2.runUntilDone(5s));
      CPPUNIT_ASSERT_EQUAL(200, h2.statuses().at(id));
    }
    {
      // No ALPN at all: HTTP/1.1, and the target learns the client came over TLS.
      TlsClient c(t.tlsPort, "a.test", {});
      CPPUNIT_ASSERT_EQUAL(std::string(), c.protocol());
      c.send(request("/proxy/plain"));
      const std::string answer = c.readUntil("\"bodyFnv1a\"");
      CPPUNIT_ASSERT_MESSAGE(answer, answer.rfind("HTTP/1.1 200", 0) == 0);
      const std::string body = answer.substr(answer.find('{'));
      CPPUNIT_ASSERT_EQUAL(std::string("https"), echoedHeader(body, "x-forwarded-proto"));
    }
    {
      // With proxy.tls.http2 off, h2 is not offered back.
      TlsStack noH2({"proxy.tls.http2=off"});
      TlsClient c(noH2.tlsPort, "a.test", {"h2", "http/1.1"});
      CPPUNIT_ASSERT_EQUAL(std::string("http/1.1"), c.protocol());
    }
  }

  void testHttp2RequestsAreLoggedAndCounted() {
    // An HTTP/2 request is one access-log line and one count, as an HTTP/1.1 request is.
    TempDir dir;
    const std::string log = dir.file("access.json");
    TlsStack t({"proxy.access_log=" + log, "proxy.access_log_format=json"});
    const int status = t.stack.statusPort(t.proxy);
    const std::string routed = "portico_requests_total{route=\"/proxy/\",target=\"" +
                               t.stack.url("e1") + "\",code=\"200\"}";
    const std::string unmatched =
        "portico_requests_total{route=\"none\",target=\"none\",code=\"404\"}";
    const auto count = [&](const std::string& series) {
      const double v = metric(http(status, "GET", "/metrics").body, series);
      return std::isnan(v) ? 0.0 : v;
    };
    // awaitStatusChange's last request went to /proxy/, and the proxy counts a request after its
    // answer is out: the baseline waits for it.
    CPPUNIT_ASSERT(waitUntil([&] { return count(routed) >= 1; }, 5s));
    const double routedBefore = count(routed);
    const double unmatchedBefore = count(unmatched);
    TlsClient c(t.tlsPort, "a.test", {"h2"});
    Http2TestClient h2(c);
    const auto ok = h2.get("/proxy/logged-h2", "a.test");
    const auto none = h2.get("/unrouted-h2", "a.test");
    CPPUNIT_ASSERT(h2.runUntilDone(5s));
    CPPUNIT_ASSERT_EQUAL(200, h2.statuses().at(ok));
    CPPUNIT_ASSERT_EQUAL(404, h2.statuses().at(none));

    std::map<std::string, Poco::JSON::Object::Ptr> byPath;
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          byPath = loggedByPath(log);
          return byPath.count("/proxy/logged-h2") && byPath.count("/unrouted-h2");
        },
        5s));
    const auto o = byPath.at("/proxy/logged-h2");
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), o->getValue<std::string>("client"));
    CPPUNIT_ASSERT_EQUAL(std::string("GET"), o->getValue<std::string>("method"));
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/2.0"), o->getValue<std::string>("protocol"));
    CPPUNIT_ASSERT_EQUAL(200, o->getValue<int>("status"));
    CPPUNIT_ASSERT(o->getValue<int>("bytes_sent") > 0);
    CPPUNIT_ASSERT_EQUAL(std::string("/proxy/"), o->getValue<std::string>("route"));
    CPPUNIT_ASSERT_EQUAL(t.stack.url("e1"), o->getValue<std::string>("target"));
    CPPUNIT_ASSERT(!o->isNull("upstream_time"));
    CPPUNIT_ASSERT_EQUAL(std::size_t{32}, o->getValue<std::string>("request_id").size());
    const auto u = byPath.at("/unrouted-h2");
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/2.0"), u->getValue<std::string>("protocol"));
    CPPUNIT_ASSERT_EQUAL(404, u->getValue<int>("status"));
    // The proxy's own answer: its body {"error":"no route for /unrouted-h2"} and a newline.
    CPPUNIT_ASSERT_EQUAL(
        static_cast<int>(std::string("{\"error\":\"no route for /unrouted-h2\"}\n").size()),
        u->getValue<int>("bytes_sent"));
    CPPUNIT_ASSERT(u->isNull("route"));
    CPPUNIT_ASSERT(u->isNull("target"));
    CPPUNIT_ASSERT(u->isNull("upstream_time"));

    // Counted as the line is written, which may come just after the client has its answer.
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return count(routed) == routedBefore + 1 && count(unmatched) == unmatchedBefore + 1;
        },
        3s));
  }

  void testSighupRenewsCertificatesWithoutDroppingConnections() {
    TlsStack t;
    TlsClient open(t.tlsPort, "a.test", {"http/1.1"});
    CPPUNIT_ASSERT_EQUAL(std::string("a.test"), open.peerCommonName());
    open.send(request("/proxy/before"));
    CPPUNIT_ASSERT(open.readUntil("/before").find("/before") != std::string::npos);
    // Renew a.pem/a.key in place with a certificate for a new name, then SIGHUP.
    t.certs.issue("a", {"renewed.test"});
    ::kill(t.stack.lastProxy().pid(), SIGHUP);
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return t.stack.lastProxy().log().find("certificates reloaded") != std::string::npos;
        },
        5s));
    TlsClient fresh(t.tlsPort, "renewed.test", {"http/1.1"});
    CPPUNIT_ASSERT_EQUAL(std::string("renewed.test"), fresh.peerCommonName());
    // The connection opened before keeps working with the certificate it got.
    open.send(request("/proxy/after"));
    CPPUNIT_ASSERT(open.readUntil("/after").find("/after") != std::string::npos);
  }

  void testUnusableCertificatesOnStartAndOnSighup() {
    TlsStack t;
    // A key that no longer parses: SIGHUP keeps the old certificates and says why.
    writeFile(t.certs.key("b"),
              "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
    ::kill(t.stack.lastProxy().pid(), SIGHUP);
    CPPUNIT_ASSERT(waitUntil(
        [&] { return t.stack.lastProxy().log().find("not reloaded") != std::string::npos; }, 5s));
    TlsClient c(t.tlsPort, "b.test", {"http/1.1"});
    CPPUNIT_ASSERT_EQUAL(std::string("b.test"), c.peerCommonName());

    // At start, a key others may read is refused with one line, as sshd refuses one.
    TestCertificates certs(t.stack.dir().path());
    certs.issue("open", {"open.test"});
    ::chmod(certs.key("open").c_str(), 0644);
    ChildProcess refused(
        binary("portico-proxy"),
        {"--define=store.path=" + t.stack.store(),
         "--define=proxy.port=" + std::to_string(freePort()), "--define=proxy.status_port=off",
         "--define=proxy.tls.port=" + std::to_string(freePort()),
         "--define=proxy.tls.certificates=" + certs.certificate("open") + ":" + certs.key("open")},
        t.stack.dir().file("refused.log"), t.stack.dir().path());
    const auto status = refused.wait(10s);
    CPPUNIT_ASSERT(status.has_value());
    CPPUNIT_ASSERT_EQUAL(78, *status);
    CPPUNIT_ASSERT_MESSAGE(refused.log(),
                           refused.log().find("proxy.tls.certificates") != std::string::npos &&
                               refused.log().find("readable by others") != std::string::npos);
  }

  void testManyStreamsToASlowTarget() {
    TlsStack t({}, {"--threads=256"});
    TlsClient c(t.tlsPort, "a.test", {"h2"});
    Http2TestClient h2(c);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) h2.get("/proxy/slow" + std::to_string(i) + "?delay=500ms");
    CPPUNIT_ASSERT_MESSAGE("streams left unanswered", h2.runUntilDone(10s));
    const auto took = std::chrono::steady_clock::now() - started;
    CPPUNIT_ASSERT_EQUAL(std::size_t(100), h2.answered());
    for (const auto& [id, status] : h2.statuses()) CPPUNIT_ASSERT_EQUAL(200, status);
    // Concurrent, not one after the other (100 x 500 ms).
    CPPUNIT_ASSERT_MESSAGE("streams were served one at a time", took < 8s);
  }

  void testResetBurstDoesNotStallOthers() {
    TlsStack t({}, {"--threads=256"});
    std::atomic<bool> stop{false};
    std::thread attacker([&] {
      TlsClient c(t.tlsPort, "a.test", {"h2"});
      Http2TestClient h2(c);
      for (int round = 0; round < 5 && !stop; ++round) {
        for (int i = 0; i < 100; ++i) h2.reset(h2.get("/proxy/reset?delay=200ms"));
        h2.runUntilDone(200ms);
      }
    });
    TlsClient c(t.tlsPort, "a.test", {"h2"});
    Http2TestClient h2(c);
    for (int i = 0; i < 20; ++i) {
      const auto id = h2.get("/proxy/normal" + std::to_string(i));
      CPPUNIT_ASSERT_MESSAGE("a normal stream stalled", h2.runUntilDone(2s));
      CPPUNIT_ASSERT_EQUAL(200, h2.statuses().at(id));
    }
    stop = true;
    attacker.join();
    CPPUNIT_ASSERT(t.stack.lastProxy().running());
  }

  void testHeaderTimeoutCountsFromTheAccept() {
    // As in nginx, the handshake counts within the first request's header timeout: a client
    // that takes most of it for its hello has only the rest for its head, not a new timeout.
    TlsStack t({"proxy.client_header_timeout=2s"});
    const auto connected = std::chrono::steady_clock::now();
    TlsClient c(t.tlsPort, "a.test", {"http/1.1"}, std::chrono::milliseconds(1200));
    CPPUNIT_ASSERT_MESSAGE(c.error(), c.connected());
    CPPUNIT_ASSERT_EQUAL(std::string("http/1.1"), c.protocol());
    const std::string got = c.readSome(std::chrono::seconds(4));
    const auto after = std::chrono::steady_clock::now() - connected;
    CPPUNIT_ASSERT_MESSAGE(got, got.empty() && c.closed());
    // Closed at about 2 s after the connect; a timeout started anew would run to 3.2 s.
    CPPUNIT_ASSERT_MESSAGE(std::to_string(after.count()), after < std::chrono::milliseconds(2900));
    CPPUNIT_ASSERT(after >= std::chrono::milliseconds(1900));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyTlsTest);
