#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "e2e/ProxyTestHarness.h"
#include "support/RecordingBackend.h"

using namespace portico::test;

namespace {

/// A plain blocking TCP connection to 127.0.0.1:port, closed on destruction (-1 when refused).
class Socket {
 public:
  explicit Socket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes) {
    return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                           static_cast<ssize_t>(bytes.size());
  }
  /// Reads until `marker` was seen or the peer closed, at most `timeout`; returns what came.
  std::string readUntil(const std::string& marker, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (data_.find(marker) == std::string::npos && !closed_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      data_.append(buf, static_cast<std::size_t>(n));
    }
    return data_;
  }
  /// True once the peer has closed (EOF or reset), waiting up to `timeout`.
  bool closedWithin(std::chrono::milliseconds timeout) {
    readUntil("\x01\x02never\x03", timeout);
    return closed_;
  }
  /// True when something (data or the end) waits to be read now.
  bool readable() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  void resetClose() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }
  const std::string& data() const { return data_; }
  void clear() { data_.clear(); }

 private:
  int fd_{-1};
  std::string data_;
  bool closed_{false};
};

long rssKb(pid_t pid) {
  return procStatusKb(pid, "VmRSS");
}

}  // namespace

/// The event-loop core as an attacker and an operator see it: strict parsing keeps smuggled
/// requests away from targets, aborted uploads reach them as aborted, slow clients cost memory
/// and not service, idle clients are held, and SIGTERM drains.
class ProxyEventLoopTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProxyEventLoopTest);
  CPPUNIT_TEST(testSmuggledRequestsNeverReachTheTarget);
  CPPUNIT_TEST(testBodyFramingErrorsAbortTheUpstreamRequest);
  CPPUNIT_TEST(testLimitsAnswer414And431);
  CPPUNIT_TEST(testConnectionCloseWithOtherTokensIsHonoured);
  CPPUNIT_TEST(testAbortedUploadReachesTargetAsAborted);
  CPPUNIT_TEST(testSlowClientsDoNotLockOthersOut);
  CPPUNIT_TEST(testEightThousandIdleClientsStayOpen);
  CPPUNIT_TEST(testSigtermDrainsRequestsInFlightAndRefusesNewOnes);
  CPPUNIT_TEST_SUITE_END();

 public:
  /// Each malformed head with a request hidden in its body: a JSON error, the connection closed,
  /// and not one byte of it at the target (which only ever sees the GETs that found the route).
  void testSmuggledRequestsNeverReachTheTarget() {
    Stack s;
    RecordingBackend backend;
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {backend.url()});
    const std::string hidden = "GET /proxy/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    // The whole literal, its NUL inside the header value included (not the terminating one).
    static constexpr char kNulHeader[] =
        "POST /proxy/x HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\nContent-Length: 43\r\n";
    const struct {
      std::string head;
      const char* status;
    } rows[] = {
        {"POST /proxy/x HTTP/1.1\r\nHost: x\r\nContent-Length : 61\r\n", "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n", "HTTP/1.1 400"},
        {std::string(kNulHeader, sizeof kNulHeader - 1), "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/1.1\r\nContent-Length: 43\r\n", "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 43\r\n", "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nContent-Length: 43\r\n",
         "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/1.1\r\nHost: x\r\nContent-Length: 43\r\nTransfer-Encoding: "
         "chunked\r\n",
         "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n",
         "HTTP/1.1 400"},
        {"POST /proxy/x HTTP/9.9\r\nHost: x\r\nContent-Length: 43\r\n", "HTTP/1.1 505"},
    };
    for (const auto& row : rows) {
      Socket c(proxy);
      CPPUNIT_ASSERT(c.send(row.head + "\r\n" + hidden));
      const std::string answer = c.readUntil("\"error\"", 5s);
      CPPUNIT_ASSERT_MESSAGE(row.head + " -> " + answer, answer.rfind(row.status, 0) == 0);
      CPPUNIT_ASSERT_MESSAGE(answer,
                             answer.find("Content-Type: application/json") != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(row.head + ": connection left open", c.closedWithin(5s));
    }
    const std::string seen = backend.allReceived();
    CPPUNIT_ASSERT_MESSAGE(seen, seen.find("smuggled") == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(seen, seen.find("POST") == std::string::npos);
  }

  /// Chunk sizes that overflow or carry junk are found only once the head went to the target:
  /// the client gets a 400, the target an aborted connection, never a complete request.
  void testBodyFramingErrorsAbortTheUpstreamRequest() {
    Stack s;
    RecordingBackend backend;
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {backend.url()});
    const char* bodies[] = {"ffffffffffffffffff\r\n", "10000000000000000\r\n",
                            "5x\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n"};
    int row = 0;
    for (const char* body : bodies) {
      // A marker per row finds the target's connection that carried it (a pooled one may).
      const std::string marker = "row" + std::to_string(++row);
      auto carrying = [&]() -> std::optional<RecordingBackend::Connection> {
        for (const auto& c : backend.connections())
          if (c.received.find(marker) != std::string::npos) return c;
        return std::nullopt;
      };
      Socket c(proxy);
      CPPUNIT_ASSERT(c.send("POST /proxy/" + marker +
                            " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
      // The head reaches the target first (the body waits for the connection).
      CPPUNIT_ASSERT(waitUntil([&] { return carrying().has_value(); }, 5s));
      CPPUNIT_ASSERT(c.send(std::string(body) + "GET /proxy/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
      const std::string answer = c.readUntil("\"error\"", 5s);
      CPPUNIT_ASSERT_MESSAGE(std::string(body) + answer, answer.rfind("HTTP/1.1 400", 0) == 0);
      CPPUNIT_ASSERT(c.closedWithin(5s));
      CPPUNIT_ASSERT(waitUntil([&] { return carrying()->ended; }, 5s));
      const auto conn = *carrying();
      CPPUNIT_ASSERT_MESSAGE(std::string(body) + ": the target saw a clean end", conn.reset);
      CPPUNIT_ASSERT(conn.received.find("\r\n0\r\n\r\n", conn.received.find(marker)) ==
                     std::string::npos);
      CPPUNIT_ASSERT(conn.received.find("smuggled") == std::string::npos);
    }
  }

  void testLimitsAnswer414And431() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1");
    Socket longTarget(proxy);
    longTarget.send("GET /proxy/" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string a = longTarget.readUntil("\"error\"", 5s);
    CPPUNIT_ASSERT_MESSAGE(a, a.rfind("HTTP/1.1 414 URI Too Long", 0) == 0);
    CPPUNIT_ASSERT(longTarget.closedWithin(5s));
    Socket manyHeaders(proxy);
    std::string head = "GET /proxy/ HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 3000; ++i) head += "X-Header-" + std::to_string(i) + ": value\r\n";
    manyHeaders.send(head + "\r\n");
    const std::string b = manyHeaders.readUntil("\"error\"", 5s);
    CPPUNIT_ASSERT_MESSAGE(b.substr(0, 200), b.rfind("HTTP/1.1 431", 0) == 0);
    // Within the limit still works.
    const Stack* unused = nullptr;
    (void)unused;
    CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/" + std::string(4000, 'b')).status);
  }

  void testConnectionCloseWithOtherTokensIsHonoured() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1");
    Socket c(proxy);
    c.send("GET /proxy/a HTTP/1.1\r\nHost: x\r\nConnection: close, X-Foo\r\nX-Foo: 1\r\n\r\n");
    const std::string answer = c.readUntil("\"bodyFnv1a\"", 5s);
    CPPUNIT_ASSERT(answer.rfind("HTTP/1.1 200", 0) == 0);
    CPPUNIT_ASSERT(answer.find("Connection: close") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE("X-Foo was listed in Connection",
                           answer.find("x-foo") == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE("the connection stayed open", c.closedWithin(5s));
  }

  /// A client that leaves half way through its body: the target sees a reset, never the end of
  /// the body (chunked or with a Content-Length).
  void testAbortedUploadReachesTargetAsAborted() {
    Stack s;
    RecordingBackend backend;
    const int proxy = s.proxy();
    s.routeServed(proxy, "/proxy/", {backend.url()});
    const struct {
      const char* head;
      const char* part;
    } rows[] = {
        {"POST /proxy/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
         "10\r\n0123456789abcdef\r\n8\r\nhalf"},
        {"POST /proxy/up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "half of it"},
    };
    int round = 0;
    for (const bool reset : {false, true}) {
      for (const auto& row : rows) {
        // A marker per round finds the target's connection that carried it (a pooled one may).
        const std::string marker = "round" + std::to_string(++round);
        auto carrying = [&]() -> std::optional<RecordingBackend::Connection> {
          for (const auto& c : backend.connections())
            if (c.received.find(marker) != std::string::npos) return c;
          return std::nullopt;
        };
        {
          Socket c(proxy);
          std::string head = row.head;
          head.replace(head.find("/up"), 3, "/" + marker);
          CPPUNIT_ASSERT(c.send(head + row.part));
          CPPUNIT_ASSERT(waitUntil(
              [&] {
                auto conn = carrying();
                return conn && conn->received.find("half", conn->received.find(marker)) !=
                                   std::string::npos;
              },
              5s));
          if (reset) c.resetClose();
        }
        CPPUNIT_ASSERT(waitUntil([&] { return carrying()->ended; }, 5s));
        const auto conn = *carrying();
        CPPUNIT_ASSERT_MESSAGE(marker + ": the target saw a clean end", conn.reset);
        // No last chunk (a Content-Length body simply stays short).
        CPPUNIT_ASSERT(conn.received.find("\r\n0\r\n\r\n", conn.received.find(marker)) ==
                       std::string::npos);
      }
    }
  }

  /// 1,000 silent connections and 300 that send their head a byte every half second: a normal
  /// client is answered all along, and the slow ones are closed once the head timeout is up.
  void testSlowClientsDoNotLockOthersOut() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1", {"proxy.client_header_timeout=2s"});
    std::vector<std::unique_ptr<Socket>> silent;
    std::vector<std::unique_ptr<Socket>> slow;
    for (int i = 0; i < 1000; ++i) silent.push_back(std::make_unique<Socket>(proxy));
    for (int i = 0; i < 300; ++i) slow.push_back(std::make_unique<Socket>(proxy));
    const auto opened = std::chrono::steady_clock::now();
    std::atomic<bool> stop{false};
    std::thread dripper([&] {
      const std::string head = "GET /proxy/slow HTTP/1.1\r\nHost: x\r\n\r\n";
      for (std::size_t i = 0; i < head.size() && !stop; ++i) {
        for (auto& c : slow) c->send(head.substr(i, 1));
        std::this_thread::sleep_for(500ms);
      }
    });
    int answered = 0;
    for (int i = 0; i < 200; ++i) {
      const auto r = http(proxy, "GET", "/proxy/normal", "", {}, 2s);
      if (r.status == 200) ++answered;
    }
    CPPUNIT_ASSERT_EQUAL(200, answered);
    // Every slow and silent connection is closed once the 2 s head timeout passed.
    bool allClosed = true;
    for (auto& c : slow) allClosed = allClosed && c->closedWithin(6s);
    for (auto& c : silent) allClosed = allClosed && c->closedWithin(1s);
    stop = true;
    dripper.join();
    CPPUNIT_ASSERT_MESSAGE("a slow client was never closed", allClosed);
    const auto took = std::chrono::steady_clock::now() - opened;
    CPPUNIT_ASSERT_MESSAGE("closed before the head timeout", took >= 2s);
    CPPUNIT_ASSERT(slow.front()->data().find("408") != std::string::npos);
  }

  /// 8,000 keep-alive clients that went idle after one answer stay open while others are
  /// served, and each can go on using its connection.
  void testEightThousandIdleClientsStayOpen() {
    Stack s;
    // The keep-alive timeout is out of the way even on a loaded machine; the echo backend (a
    // thread per connection) gets threads for every upstream connection the proxy may keep.
    s.echo("e1", {"--threads=1024"});
    const int proxy = s.proxy({"proxy.keepalive_timeout=10m"});
    s.routeServed(proxy, "/proxy/", {s.url("e1")});
    constexpr int kIdle = 8000;
    std::vector<std::unique_ptr<Socket>> idle;
    idle.reserve(kIdle);
    // In batches, so the echo backend (a thread per connection) is not flooded.
    for (int batch = 0; batch < kIdle / 100; ++batch) {
      const std::size_t first = idle.size();
      for (int i = 0; i < 100; ++i) {
        idle.push_back(std::make_unique<Socket>(proxy));
        CPPUNIT_ASSERT(idle.back()->send("GET /proxy/idle HTTP/1.1\r\nHost: x\r\n\r\n"));
      }
      for (std::size_t i = first; i < idle.size(); ++i) {
        const std::string a = idle[i]->readUntil("\"bodyFnv1a\"", 10s);
        if (a.find("\"bodyFnv1a\"") == std::string::npos) {
          const std::string log = s.lastProxy().log();
          CPPUNIT_FAIL("client " + std::to_string(i) + " got '" + a + "'; proxy log ends: " +
                       log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
        }
        idle[i]->clear();
      }
    }
    const long rss = rssKb(s.lastProxy().pid());
    for (int i = 0; i < 200; ++i)
      CPPUNIT_ASSERT_EQUAL(200, http(proxy, "GET", "/proxy/busy").status);
    int open = 0;
    std::string sample;
    for (auto& c : idle) {
      if (!c->readable()) {
        ++open;
      } else if (sample.empty()) {
        sample = c->readUntil("\x01never", 100ms) + (c->closedWithin(10ms) ? "<closed>" : "");
      }
    }
    CPPUNIT_ASSERT_EQUAL_MESSAGE(sample + "\n" + s.lastProxy().log().substr(0, 2000), kIdle, open);
    for (int i = 0; i < kIdle; i += 80) {
      CPPUNIT_ASSERT(
          idle[static_cast<std::size_t>(i)]->send("GET /proxy/again HTTP/1.1\r\nHost: x\r\n\r\n"));
      const std::string a = idle[static_cast<std::size_t>(i)]->readUntil("/again", 5s);
      CPPUNIT_ASSERT_MESSAGE(a, a.find("/again") != std::string::npos);
    }
    std::printf("\n[idle] %d idle keep-alive clients held, proxy RSS %ld kB\n", kIdle, rss);
  }

  /// SIGTERM: the listener goes away at once, a request in flight completes, an idle client is
  /// closed, and the process exits cleanly.
  void testSigtermDrainsRequestsInFlightAndRefusesNewOnes() {
    Stack s;
    const int proxy = s.proxyToOneEcho("e1", {"proxy.drain_timeout=10s"});
    Socket idleClient(proxy);
    idleClient.send("GET /proxy/idle HTTP/1.1\r\nHost: x\r\n\r\n");
    CPPUNIT_ASSERT(idleClient.readUntil("\"bodyFnv1a\"", 5s).find("bodyFnv1a") !=
                   std::string::npos);
    Socket slow(proxy);
    slow.send("GET /proxy/slow?delay=1500ms HTTP/1.1\r\nHost: x\r\n\r\n");
    // Wait until the slow request is at the backend, then stop the proxy.
    std::this_thread::sleep_for(300ms);
    ::kill(s.lastProxy().pid(), SIGTERM);
    CPPUNIT_ASSERT_MESSAGE("new connections were still accepted",
                           waitUntil([&] { return !Socket(proxy).connected(); }, 2s));
    CPPUNIT_ASSERT_MESSAGE("the idle client was not closed", idleClient.closedWithin(2s));
    const std::string answer = slow.readUntil("\"bodyFnv1a\"", 5s);
    CPPUNIT_ASSERT_MESSAGE(answer, answer.rfind("HTTP/1.1 200", 0) == 0);
    const auto status = s.lastProxy().wait(5s);
    CPPUNIT_ASSERT_MESSAGE("the proxy did not exit", status.has_value());
    CPPUNIT_ASSERT_EQUAL(0, *status);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyEventLoopTest);
