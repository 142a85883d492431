// The TLS listener's certificate expiry as the status listener exposes it (the metric the
// PorticoCertificateExpiringSoon alert of docs/monitoring/alerts.yml reads), before and after a
// SIGHUP reload.

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <ctime>

#include "e2e/ProxyTestHarness.h"
#include "support/TlsTestSupport.h"

using namespace portico::test;
using namespace std::chrono_literals;

class CertificateMetricsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CertificateMetricsTest);
  CPPUNIT_TEST(expiryOfEachCertificateIsAGauge);
  CPPUNIT_TEST_SUITE_END();

 public:
  void expiryOfEachCertificateIsAGauge() {
    Stack stack;
    TestCertificates certs(stack.dir().path());
    certs.issue("a", {"a.test"});
    certs.issue("b", {"b.test"});
    const int proxy =
        stack.proxy({"proxy.tls.port=" + std::to_string(freePort()),
                     "proxy.tls.certificates=" + certs.certificate("a") + ":" + certs.key("a") +
                         "," + certs.certificate("b") + ":" + certs.key("b")});
    const auto series = [&](const std::string& name) {
      return "portico_tls_certificate_expiry_timestamp_seconds{certificate=\"" +
             certs.certificate(name) + "\",name=\"" + name + ".test\"}";
    };
    const std::string text = http(stack.statusPort(proxy), "GET", "/metrics").body;
    CPPUNIT_ASSERT_MESSAGE(text,
                           text.find("# TYPE portico_tls_certificate_expiry_timestamp_seconds "
                                     "gauge") != std::string::npos);
    // The test certificates are valid for 2 days (openssl -days 2).
    const double now = static_cast<double>(std::time(nullptr));
    for (const char* name : {"a", "b"}) {
      const double expiry = metric(text, series(name));
      CPPUNIT_ASSERT_MESSAGE(text, expiry > now + 47 * 3600 && expiry < now + 49 * 3600);
    }
    // A reload that drops nothing keeps both; a certificate the files no longer hold goes.
    writeFile(certs.certificate("b"), readFile(certs.certificate("a")));
    writeFile(certs.key("b"), readFile(certs.key("a")));
    ::kill(stack.lastProxy().pid(), SIGHUP);
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          const std::string now = http(stack.statusPort(proxy), "GET", "/metrics").body;
          return std::isnan(metric(now, series("b"))) &&
                 !std::isnan(metric(now,
                                    "portico_tls_certificate_expiry_timestamp_seconds{"
                                    "certificate=\"" +
                                        certs.certificate("b") + "\",name=\"a.test\"}"));
        },
        5s));
  }

 private:
  static std::string readFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertificateMetricsTest);
