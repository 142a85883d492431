// HTTP/2 with prior knowledge on the plain listener (h2c, RFC 9113 3.3; issue #21): real clients
// (curl --http2-prior-knowledge, h2load) through the real proxy to the echo backend, and the
// preface split over reads. HTTP/1.1 on the same port is unaffected.

#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/ProxyTestHarness.h"
#include "support/RawClient.h"

using namespace portico::test;

namespace {

/// Runs `program` with `args` to its end (bounded); its exit status and what it printed.
std::pair<int, std::string> run(const TempDir& dir, const std::string& program,
                                const std::vector<std::string>& args, const std::string& name) {
  ChildProcess p(program, args, dir.file(name + ".log"));
  const auto status = p.wait(60s);
  if (!status) p.kill9();
  return {status.value_or(-1), p.log()};
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool installed(const std::string& program) {
  return ::access(program.c_str(), X_OK) == 0;
}

}  // namespace

class H2cTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(H2cTest);
  CPPUNIT_TEST(testCurlPriorKnowledgeAndHttp11OnOnePort);
  CPPUNIT_TEST(testH2loadManyStreams);
  CPPUNIT_TEST(testPrefaceOverSeveralReads);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testCurlPriorKnowledgeAndHttp11OnOnePort() {
    Stack stack;
    const int port = stack.proxyToOneEcho("e1");
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    const std::string body = stack.dir().file("body.json");
    const auto h2 = run(stack.dir(), "/usr/bin/curl",
                        {"-sS", "--http2-prior-knowledge", "-o", body, "-w",
                         "%{http_version} %{response_code}", base + "/proxy/over-h2c"},
                        "curl-h2c");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(h2.second, 0, h2.first);
    CPPUNIT_ASSERT_EQUAL(std::string("2 200"), h2.second);
    const std::string echoed = readFile(body);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(echoed, std::string("/over-h2c"),  // the prefix is stripped
                                 json(echoed)->getValue<std::string>("path"));
    // Cleartext to the proxy, so the target is told http, not https.
    CPPUNIT_ASSERT_EQUAL(std::string("http"), echoedHeader(echoed, "x-forwarded-proto"));
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:") + std::to_string(port),
                         echoedHeader(echoed, "x-forwarded-host"));

    const auto h1 = run(stack.dir(), "/usr/bin/curl",
                        {"-sS", "--http1.1", "-o", "/dev/null", "-w",
                         "%{http_version} %{response_code}", base + "/proxy/over-h1"},
                        "curl-h1");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(h1.second, 0, h1.first);
    CPPUNIT_ASSERT_EQUAL(std::string("1.1 200"), h1.second);
    // No route: the proxy's own 404 over h2c too.
    const auto none = run(stack.dir(), "/usr/bin/curl",
                          {"-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                           "%{http_version} %{response_code}", base + "/unrouted"},
                          "curl-404");
    CPPUNIT_ASSERT_EQUAL(std::string("2 404"), none.second);
  }

  void testH2loadManyStreams() {
    if (!installed("/usr/bin/h2load")) skipTest("h2load (package nghttp2-client, scripts/deps.sh)");
    Stack stack;
    const int port = stack.proxyToOneEcho("e1", {"proxy.workers=2"});
    const auto r = run(stack.dir(), "/usr/bin/h2load",
                       {"-n", "2000", "-c", "4", "-m", "10",
                        "http://127.0.0.1:" + std::to_string(port) + "/proxy/h2load"},
                       "h2load");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.second, 0, r.first);
    CPPUNIT_ASSERT_MESSAGE(r.second,
                           r.second.find("Application protocol: h2c") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(
        r.second,
        r.second.find("2000 total, 2000 started, 2000 done, 2000 succeeded") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.second, r.second.find("status codes: 2000 2xx") != std::string::npos);
  }

  void testPrefaceOverSeveralReads() {
    Stack stack;
    const int port = stack.proxyToOneEcho("e1");
    RawClient c(port, 1s);
    c.send("PRI * HTTP/2.0\r\n");
    // Half a preface is no request: the proxy waits for the rest instead of answering.
    CPPUNIT_ASSERT(!c.readSome());
    CPPUNIT_ASSERT(c.data().empty() && !c.eof());
    c.send(std::string("\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9));
    for (int i = 0; i < 5 && c.data().size() < 9; ++i) c.readSome();
    // The server's connection preface: a SETTINGS frame (type 4) on stream 0, not HTTP/1.1.
    CPPUNIT_ASSERT_MESSAGE(c.data(), c.data().size() >= 9);
    CPPUNIT_ASSERT_EQUAL(4, static_cast<int>(c.data()[3]));
    CPPUNIT_ASSERT(c.data().rfind("HTTP/1.1", 0) == std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(H2cTest);
