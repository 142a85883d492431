// HTTP/2 to targets without gRPC (issue #21): a target that resets a stream before or after
// its head, one that stalls between DATA frames (the route's read timeout), one that sends
// GOAWAY mid-run (no accepted stream lost), and a 100 MB answer to a client that reads slowly
// (the proxy's memory stays flat: flow control holds the target back). The target is
// tests/e2e/h2_peer.py, an HTTP/2 server that misbehaves on demand.

#include <cppunit/extensions/HelperMacros.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "e2e/ProxyTestHarness.h"

using namespace portico::test;

namespace {

/// A proxy with route /h2/ speaking HTTP/2 to one h2_peer.py in `mode`.
struct PeerStack {
  Stack stack;
  std::unique_ptr<ChildProcess> peer;
  int peerPort{0};
  int proxy{0};

  explicit PeerStack(const std::vector<std::string>& peerArgs, const std::string& routeExtra = "") {
    peerPort = freePort();
    std::vector<std::string> args{sourceDir() + "/tests/e2e/h2_peer.py",
                                  "--port=" + std::to_string(peerPort)};
    args.insert(args.end(), peerArgs.begin(), peerArgs.end());
    peer = std::make_unique<ChildProcess>("/usr/bin/python3", args, stack.dir().file("peer.log"));
    if (!waitForPort(peerPort, 20s)) CPPUNIT_FAIL("h2_peer did not start: " + peer->log());
    proxy = stack.proxy();
    stack.route("/h2/", {"http://127.0.0.1:" + std::to_string(peerPort)}, "round_robin",
                R"(,"upstreamProtocol":"h2")" + routeExtra);
    // The proxy has the route (no request may reach the target before the test's own).
    stack.awaitProxyRevision(proxy, stack.storeRevision());
  }

  /// curl through the proxy; its exit status, the "-w" line in `out`.
  int curl(const std::vector<std::string>& options, std::string& out, const std::string& name) {
    std::vector<std::string> args{"-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "30"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("http://127.0.0.1:" + std::to_string(proxy) + "/h2/x");
    ChildProcess c("/usr/bin/curl", args, stack.dir().file(name + ".log"));
    const int status = c.wait(60s).value_or(-1);
    out = c.log();
    return status;
  }
};

}  // namespace

class Http2UpstreamTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(Http2UpstreamTest);
  CPPUNIT_TEST(testTargetResetBeforeTheHead);
  CPPUNIT_TEST(testTargetResetAfterTheHead);
  CPPUNIT_TEST(testReadTimeoutBetweenDataFrames);
  CPPUNIT_TEST(testGoawayLosesNoAcceptedStream);
  CPPUNIT_TEST(testSlowClientKeepsMemoryFlat);
  CPPUNIT_TEST(testRequestTrailersReachTheTarget);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTargetResetBeforeTheHead() {
    PeerStack p({"--mode=reset"});
    std::string out;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, p.curl({"--http2-prior-knowledge"}, out, "h2"));
    CPPUNIT_ASSERT_EQUAL(std::string("502"), out.substr(out.size() - 3));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, p.curl({"--http1.1"}, out, "h1"));
    CPPUNIT_ASSERT_EQUAL(std::string("502"), out.substr(out.size() - 3));
  }

  void testTargetResetAfterTheHead() {
    // The head (200) went out: the client's stream is reset in turn (curl: 92, HTTP/2 stream
    // error), an HTTP/1.1 client's connection is reset mid-body (curl: 56, or 18 for a cut
    // chunked body): neither can take the partial body as complete.
    PeerStack p({"--mode=reset-body"});
    std::string out;
    const int h2 = p.curl({"--http2-prior-knowledge"}, out, "h2");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 92, h2);
    const int h1 = p.curl({"--http1.1"}, out, "h1");
    CPPUNIT_ASSERT_MESSAGE(out, h1 == 56 || h1 == 18);
    CPPUNIT_ASSERT_EQUAL(std::string("200"), out.substr(out.size() - 3));
  }

  void testReadTimeoutBetweenDataFrames() {
    // One byte of body, then silence: the route's read timeout (1 s) cuts the answer, and the
    // proxy resets the upstream stream (the target sees RST_STREAM).
    PeerStack p({"--mode=stall"}, R"(,"timeouts":{"read":"1s"})");
    std::string out;
    const auto started = std::chrono::steady_clock::now();
    const int h2 = p.curl({"--http2-prior-knowledge"}, out, "h2");
    const auto took = std::chrono::steady_clock::now() - started;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 92, h2);
    CPPUNIT_ASSERT_MESSAGE(std::to_string(took.count()), took >= 900ms && took < 5s);
    CPPUNIT_ASSERT_MESSAGE(
        p.peer->log(),
        waitUntil([&] { return p.peer->log().find("reset by peer") != std::string::npos; }, 5s));
  }

  void testGoawayLosesNoAcceptedStream() {
    if (::access("/usr/bin/h2load", X_OK) != 0)
      skipTest("h2load (package nghttp2-client, scripts/deps.sh)");
    // Every upstream connection gets GOAWAY at its 50th stream while earlier ones still wait
    // for their answers: those finish, the refused ones go again on a new connection.
    PeerStack p({"--mode=goaway", "--every=50"});
    ChildProcess load("/usr/bin/h2load",
                      {"-n", "1000", "-c", "2", "-m", "10",
                       "http://127.0.0.1:" + std::to_string(p.proxy) + "/h2/x"},
                      p.stack.dir().file("h2load.log"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(load.log(), 0, load.wait(120s).value_or(-1));
    const std::string log = load.log();
    CPPUNIT_ASSERT_MESSAGE(log, log.find("1000 succeeded") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(log, log.find("status codes: 1000 2xx") != std::string::npos);
  }

  void testRequestTrailersReachTheTarget() {
    if (::access("/usr/bin/nghttp", X_OK) != 0)
      skipTest("nghttp (package nghttp2-client, scripts/deps.sh)");
    PeerStack p({"--mode=at-end"});
    const std::string body = p.stack.dir().file("body.txt");
    writeFile(body, "a body with trailers after it");
    ChildProcess client("/usr/bin/nghttp",
                        {"-d", body, "--trailer=x-checksum: 1234",
                         "http://127.0.0.1:" + std::to_string(p.proxy) + "/h2/x"},
                        p.stack.dir().file("nghttp.log"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(client.log(), 0, client.wait(30s).value_or(-1));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(client.log(), std::string("ok"), client.log());
    // The client's trailer section went on to the target as one (a HEADERS frame after the
    // body), and ended the request there: the target answered only then.
    CPPUNIT_ASSERT_MESSAGE(p.peer->log(),
                           p.peer->log().find("trailers on stream 1") != std::string::npos);
  }

  void testSlowClientKeepsMemoryFlat() {
    // 100 MB from a target that sends as fast as its windows allow, to a client reading at
    // 20 MB/s: the target's window opens only as the client takes the bytes.
    constexpr long kSize = 100L << 20;
    PeerStack p({"--mode=big", "--size=" + std::to_string(kSize)});
    const pid_t pid = p.stack.lastProxy().pid();
    const long before = procStatusKb(pid, "VmRSS");
    ChildProcess c(
        "/usr/bin/curl",
        {"-sS", "--http2-prior-knowledge", "--limit-rate", "20M", "-o", "/dev/null", "-w",
         "%{size_download}", "-m", "60", "http://127.0.0.1:" + std::to_string(p.proxy) + "/h2/x"},
        p.stack.dir().file("curl.log"));
    long most = before;
    waitUntil(
        [&] {
          most = std::max(most, procStatusKb(pid, "VmRSS"));
          return !c.running();
        },
        90s, std::chrono::milliseconds(50));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(c.log(), 0, c.wait(10s).value_or(-1));
    CPPUNIT_ASSERT_EQUAL(std::to_string(kSize), c.log());
    std::cerr << "proxy VmRSS " << before << " kB before, at most " << most
              << " kB during a 100 MB answer to a slow HTTP/2 client\n";
#ifndef PORTICO_SANITIZED
    CPPUNIT_ASSERT_MESSAGE(std::to_string(most - before), most - before < 30 * 1024);
#else
    // Not under a sanitizer: ASan keeps freed memory in its quarantine (256 MB by default)
    // rather than reusing it, so the proxy's RSS grows with every buffer it frees and says
    // nothing of what it holds (an ASan run saw +162 MB for this answer).
    (void)most;
#endif
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Http2UpstreamTest);
