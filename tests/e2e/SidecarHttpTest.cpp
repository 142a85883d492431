// End-to-end tests of the admin listener's HTTP layer (the shared HttpServer on the event-loop
// core): raw bytes on a socket to the real portico-sidecar, a real store, loopback only.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e/SidecarHarness.h"
#include "support/RawClient.h"
#include "support/TestSupport.h"

using namespace portico::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

/// The status line, headers and JSON body of the first answer in `raw`; fails the test when the
/// answer is not `status` with a JSON {"error": ...} body of its declared length.
void expectJsonError(const std::string& raw, int status, const std::string& what) {
  const std::string line = "HTTP/1.1 " + std::to_string(status) + " ";
  CPPUNIT_ASSERT_MESSAGE(what + ": " + raw.substr(0, 300), raw.rfind(line, 0) == 0);
  const auto end = raw.find("\r\n\r\n");
  CPPUNIT_ASSERT_MESSAGE(what + ": no end of head: " + raw.substr(0, 300),
                         end != std::string::npos);
  const std::string head = raw.substr(0, end);
  CPPUNIT_ASSERT_MESSAGE(what + ": " + head,
                         head.find("Content-Type: application/json") != std::string::npos);
  const auto cl = head.find("Content-Length: ");
  CPPUNIT_ASSERT_MESSAGE(what + ": " + head, cl != std::string::npos);
  const std::size_t length = std::stoul(head.substr(cl + 16));
  const std::string body = raw.substr(end + 4, length);
  CPPUNIT_ASSERT_EQUAL_MESSAGE(what + ": " + raw, length, body.size());
  Poco::JSON::Object::Ptr object;
  try {
    object = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
  }
  CPPUNIT_ASSERT_MESSAGE(what + ": not a JSON object: " + body, object && object->has("error"));
  for (unsigned char c : object->getValue<std::string>("error"))
    CPPUNIT_ASSERT_MESSAGE(what + ": " + body, c >= 0x20 && c != 0x7f);
}

/// Sends `bytes` on a new connection and reads until the sidecar closes it.
std::unique_ptr<RawClient> exchange(int port, const std::string& bytes) {
  auto client = std::make_unique<RawClient>(port);
  client->send(bytes);
  client->readToEnd();
  return client;
}

}  // namespace

/// The admin port's framing is as strict as the proxy's and every refusal is a JSON answer.
class SidecarHttpTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SidecarHttpTest);
  CPPUNIT_TEST(testSmugglingIsRefusedAndHiddenRequestNeverRuns);
  CPPUNIT_TEST(testAmbiguousFramingIsRefusedWithJson);
  CPPUNIT_TEST(testRequestLineAndHeaderErrorsAreJson);
  CPPUNIT_TEST(testTimeoutsAnswer408);
  CPPUNIT_TEST(testSlowClientsDoNotKeepOthersOut);
  CPPUNIT_TEST(testKeepAlivePipeliningAndContinue);
  CPPUNIT_TEST(testHalfSentRequestsAreAnswered);
  CPPUNIT_TEST(testRefusalsAreCounted);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSmugglingIsRefusedAndHiddenRequestNeverRuns() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    const std::string hidden =
        "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        "Content-Length: 21\r\n\r\n{\"prefixPath\":\"/x/\"}\n";
    const std::string add = R"({"prefixPath":"/a/","targets":["http://127.0.0.1:1"]})";
    // The first request's body as chunked framing reads it: one chunk, then the hidden request.
    const std::string chunked = "5\r\nhello\r\n0\r\n\r\n" + hidden;
    for (const std::string& framing :
         {"Content-Length: " + std::to_string(add.size()) + "\r\nTransfer-Encoding: chunked\r\n",
          "Transfer-Encoding: chunked\r\nContent-Length: " + std::to_string(add.size()) + "\r\n"}) {
      auto c = exchange(s.port(),
                        "POST /endpoints/add HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n" + chunked);
      expectJsonError(c->data(), 400, framing);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c->data(), std::size_t(1), count(c->data(), "HTTP/1.1 "));
      CPPUNIT_ASSERT_MESSAGE(c->data() + c->error(), c->eof());
    }
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(s.db(), "SELECT prefix FROM routes"));
    // The same hidden request after a well-framed one runs: the refusal above is the framing's.
    auto c = exchange(s.port(),
                      "GET /endpoints/routes HTTP/1.1\r\nHost: a\r\n\r\n" + hidden +
                          "GET /endpoints/routes HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(c->data(), std::size_t(3), count(c->data(), "HTTP/1.1 "));
    CPPUNIT_ASSERT_EQUAL(std::string("/x/"), sqlite(s.db(), "SELECT prefix FROM routes"));
  }

  void testAmbiguousFramingIsRefusedWithJson() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    const std::string body = R"({"prefixPath":"/y/"})";
    struct Row {
      std::string headers;
      int status;
    };
    // The data plane's rules (one MessageFraming): a coding the server does not implement is a
    // 501, every other doubt about where the body ends a 400; either way the connection closes.
    for (const Row& row : std::vector<Row>{
             {"Content-Length: -5\r\n", 400},
             {"Content-Length: abc\r\n", 400},
             {"Content-Length: 20\r\nContent-Length: 21\r\n", 400},
             {"Content-Length: 20, 21\r\n", 400},
             {"Content-Length: +20\r\n", 400},
             {"Transfer-Encoding: identity\r\n", 400},
             {"Transfer-Encoding: gzip\r\n", 400},
             {"Transfer-Encoding: chunked, identity\r\n", 400},
             {"Transfer-Encoding: gzip, chunked\r\n", 501},
             {"Transfer-Encoding: chunked, chunked\r\n", 501},
             {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 501},
         }) {
      auto c = exchange(
          s.port(), "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\n" + row.headers + "\r\n" + body);
      expectJsonError(c->data(), row.status, row.headers);
      CPPUNIT_ASSERT_MESSAGE(row.headers + c->data(),
                             c->data().find("Connection: close") != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(row.headers + c->error(), c->eof());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c->data(), std::size_t(1), count(c->data(), "HTTP/1.1 "));
    }
    // Transfer-Encoding in an HTTP/1.0 request.
    auto c = exchange(s.port(),
                      "POST /endpoints/routes HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "14\r\n" +
                          body + "\r\n0\r\n\r\n");
    expectJsonError(c->data(), 400, "TE in HTTP/1.0");
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(s.db(), "SELECT prefix FROM routes"));
  }

  void testRequestLineAndHeaderErrorsAreJson() {
    TempDir dir;
    Sidecar s(dir, {"--define=admin.client_header_timeout=3s"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    std::string manyHeaders;
    for (int i = 0; i < 5000; ++i) manyHeaders += "X-H" + std::to_string(i) + ": v\r\n";
    struct Row {
      std::string what;
      std::string request;
      int status;
    };
    for (const Row& row : std::vector<Row>{
             {"bad request line", "GET\r\n\r\n", 400},
             {"spaces in the target", "GET /a b c HTTP/1.1\r\nHost: a\r\n\r\n", 400},
             {"100 KB URI", "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n",
              414},
             {"5,000 headers",
              "GET /endpoints/routes HTTP/1.1\r\nHost: a\r\n" + manyHeaders + "\r\n", 431},
             {"HTTP/9.9", "GET /endpoints/routes HTTP/9.9\r\nHost: a\r\n\r\n", 505},
             {"HTTP/2.0 as text", "GET /endpoints/routes HTTP/2.0\r\nHost: a\r\n\r\n", 505},
             {"space before the colon", "GET /endpoints/routes HTTP/1.1\r\nHost : a\r\n\r\n", 400},
             {"NUL in a header",
              std::string("GET /endpoints/routes HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 50), 400},
             {"no Host on HTTP/1.1", "GET /endpoints/routes HTTP/1.1\r\n\r\n", 400},
             {"two Host headers", "GET /endpoints/routes HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
              400},
             {"obsolete line folding",
              "GET /endpoints/routes HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
             {"bare LF", "GET /endpoints/routes HTTP/1.1\nHost: a\n\n", 400},
             {"unknown method token", "BREW /endpoints/routes HTTP/1.1\r\nHost: a\r\n\r\n", 501},
             {"unmet expectation",
              "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: "
              "2\r\n\r\n{}",
              417},
         }) {
      const auto started = Clock::now();
      auto c = exchange(s.port(), row.request);
      expectJsonError(c->data(), row.status, row.what);
      CPPUNIT_ASSERT_MESSAGE(row.what + c->error(), c->eof());
      // Answered at once, not after a timeout.
      CPPUNIT_ASSERT_MESSAGE(row.what, Clock::now() - started < 2s);
    }
    // An HTTP/0.9 request line gets an answer, not a wait for a head that never comes.
    const auto started = Clock::now();
    auto c = exchange(s.port(), "GET /\r\n");
    CPPUNIT_ASSERT_MESSAGE(c->data(), c->data().rfind("HTTP/1.1 4", 0) == 0 ||
                                          c->data().rfind("HTTP/1.1 505", 0) == 0);
    expectJsonError(c->data(), std::stoi(c->data().substr(9, 3)), "HTTP/0.9");
    CPPUNIT_ASSERT_MESSAGE("HTTP/0.9 waited", Clock::now() - started < 6s);
  }

  void testTimeoutsAnswer408() {
    TempDir dir;
    Sidecar s(dir,
              {"--define=admin.client_header_timeout=1s", "--define=admin.client_body_timeout=1s"});
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    {
      // Half a head, then silence: 408 once the header timeout has passed, counted from the
      // first byte, however slowly the rest drips in.
      RawClient c(s.port());
      const auto started = Clock::now();
      c.send("GET /endpoints/routes HTTP/1.1\r\n");
      for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(300ms);
        c.send("X-Drip" + std::to_string(i) + ": 1\r\n");
      }
      CPPUNIT_ASSERT(c.readToEnd());
      const auto took = Clock::now() - started;
      expectJsonError(c.data(), 408, "header timeout");
      CPPUNIT_ASSERT_MESSAGE(c.data(), took >= 900ms && took < 5s);
    }
    {
      // A body that stops coming.
      RawClient c(s.port());
      c.send("POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\n\r\n{\"pre");
      CPPUNIT_ASSERT(c.readToEnd());
      expectJsonError(c.data(), 408, "body timeout");
      CPPUNIT_ASSERT_MESSAGE(c.data(), c.data().find("ETag: \"") != std::string::npos);
    }
    {
      // A connection that never sends a byte is closed without an answer (nothing to answer).
      RawClient c(s.port());
      const auto started = Clock::now();
      CPPUNIT_ASSERT(c.readToEnd());
      CPPUNIT_ASSERT_EQUAL(std::string(""), c.data());
      CPPUNIT_ASSERT(Clock::now() - started < 5s);
    }
  }

  void testSlowClientsDoNotKeepOthersOut() {
    TempDir dir;
    Sidecar s(dir);  // the default header timeout (10s): the slow clients outlast the check
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 40; ++i) {
      slow.push_back(std::make_unique<RawClient>(s.port()));
      slow.back()->send("POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nContent-Le");
    }
    // And 10 more that sent a head and half a body.
    for (int i = 0; i < 10; ++i) {
      slow.push_back(std::make_unique<RawClient>(s.port()));
      slow.back()->send(
          "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{");
    }
    for (int i = 0; i < 5; ++i) {
      const auto started = Clock::now();
      const auto r = s.request("POST", "/endpoints/routes",
                               "{\"prefixPath\":\"/fast" + std::to_string(i) + "/\"}");
      const auto took = Clock::now() - started;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 201, r.status);
      CPPUNIT_ASSERT_MESSAGE(
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) +
              " ms",
          took < 1s * kSlowdown);
    }
  }

  void testKeepAlivePipeliningAndContinue() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    {
      // Three pipelined requests on one connection, answered in order; the last closes.
      RawClient c(s.port());
      c.send(
          "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n"
          "{\"prefixPath\":\"/p/\"}"
          "GET /endpoints/list?prefixPath=/p/ HTTP/1.1\r\nHost: a\r\n\r\n"
          "HEAD /endpoints/routes HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      CPPUNIT_ASSERT(c.readToEnd());
      const std::string& d = c.data();
      const auto first = d.find("HTTP/1.1 201 ");
      const auto second = d.find("HTTP/1.1 200 ", first);
      const auto third = d.find("HTTP/1.1 200 ", second + 1);
      CPPUNIT_ASSERT_MESSAGE(
          d, first == 0 && second != std::string::npos && third != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(d, d.find("\"prefixPath\":\"/p/\"", second) < third);
      // HEAD: the length of the GET's body, and no body.
      CPPUNIT_ASSERT_MESSAGE(d, d.substr(third).find("Connection: close") != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(d, d.size() == d.find("\r\n\r\n", third) + 4);
    }
    {
      // HTTP/1.0 keep-alive when asked for.
      RawClient c(s.port());
      c.send("GET /endpoints/routes HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      CPPUNIT_ASSERT(c.readUntil("}"));
      CPPUNIT_ASSERT_MESSAGE(c.data(),
                             c.data().find("Connection: keep-alive") != std::string::npos);
      c.send("GET /endpoints/routes HTTP/1.0\r\n\r\n");
      CPPUNIT_ASSERT(c.readToEnd());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c.data(), std::size_t(2), count(c.data(), "HTTP/1.1 200 "));
    }
    {
      // Expect: 100-continue: the go-ahead first, the body after it.
      RawClient c(s.port());
      const std::string body = R"({"prefixPath":"/c/"})";
      c.send(
          "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n");
      CPPUNIT_ASSERT_MESSAGE(c.data() + c.error(), c.readUntil("\r\n\r\n"));
      CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 100 Continue\r\n\r\n"), c.data());
      c.send(body);
      CPPUNIT_ASSERT(c.readUntil("\"/c/\""));
      CPPUNIT_ASSERT_MESSAGE(c.data(), c.data().find("HTTP/1.1 201 ") != std::string::npos);
    }
    {
      // Over the limit with Expect: refused before any body byte is sent.
      RawClient c(s.port());
      c.send(
          "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
          "Content-Length: 2000000\r\n\r\n");
      CPPUNIT_ASSERT(c.readToEnd());
      expectJsonError(c.data(), 413, "Expect over the limit");
      CPPUNIT_ASSERT_MESSAGE(c.data(), c.data().find("ETag: \"") != std::string::npos);
    }
    {
      // A chunked body with extensions and trailers, de-chunked for the API.
      RawClient c(s.port());
      c.send(
          "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          "a;ext=1\r\n{\"prefixPa\r\na\r\nth\":\"/k/\"}\r\n0\r\nX-Trailer: t\r\n\r\n");
      CPPUNIT_ASSERT(c.readUntil("\"/k/\""));
      CPPUNIT_ASSERT_MESSAGE(c.data(), c.data().rfind("HTTP/1.1 201 ", 0) == 0);
    }
  }

  void testHalfSentRequestsAreAnswered() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    {
      // Half a head, then the client's end of the connection: an answer, not a silent close.
      RawClient c(s.port());
      c.send("GET /endpoints/routes HTTP/1.1\r\nHos");
      c.shutdownSend();
      CPPUNIT_ASSERT(c.readToEnd());
      expectJsonError(c.data(), 400, "head cut short");
    }
    {
      RawClient c(s.port());
      c.send("POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n{\"pre");
      c.shutdownSend();
      CPPUNIT_ASSERT(c.readToEnd());
      expectJsonError(c.data(), 400, "body cut short");
    }
    {
      // A malformed chunk: 400, and nothing after it is read as a request.
      auto c = exchange(
          s.port(),
          "POST /endpoints/routes HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhelloXX0\r\n\r\nGET /endpoints/routes HTTP/1.1\r\nHost: a\r\n\r\n");
      expectJsonError(c->data(), 400, "bad chunk");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(c->data(), std::size_t(1), count(c->data(), "HTTP/1.1 "));
    }
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(s.db(), "SELECT prefix FROM routes"));
  }

  void testRefusalsAreCounted() {
    TempDir dir;
    Sidecar s(dir);
    CPPUNIT_ASSERT_MESSAGE(s.process().log(), s.ready());
    exchange(s.port(), "GET /endpoints/routes HTTP/9.9\r\nHost: a\r\n\r\n");
    exchange(s.port(),
             "POST /endpoints/add HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    const auto r = s.request("GET", "/metrics");
    CPPUNIT_ASSERT_EQUAL(200, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find("code=\"505\"") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find("endpoint=\"/endpoints/add\"") != std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SidecarHttpTest);
