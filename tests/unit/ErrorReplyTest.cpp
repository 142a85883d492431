#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <utility>
#include <vector>

#include "forward/ErrorReply.h"

using portico::ErrorReply;

/// The proxy's own answers, as every client side writes them: the JSON body, the HTTP/1.1 head
/// with its length and closing, the HTTP/2 header list.
class ErrorReplyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ErrorReplyTest);
  CPPUNIT_TEST(testBodyQuotesTheMessage);
  CPPUNIT_TEST(testHttp1AnswerKeptAlive);
  CPPUNIT_TEST(testHttp1AnswerClosing);
  CPPUNIT_TEST(testHttp2Headers);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testBodyQuotesTheMessage() {
    const ErrorReply reply(502, "target \"a\" failed\n");
    CPPUNIT_ASSERT_EQUAL(502, reply.status());
    CPPUNIT_ASSERT_EQUAL(std::string("{\"error\":\"target \\\"a\\\" failed\\n\"}\n"), reply.body());
  }

  void testHttp1AnswerKeptAlive() {
    const ErrorReply reply(404, "no route");
    std::string out = "before|";
    reply.writeHttp1(true, out);
    CPPUNIT_ASSERT_EQUAL(std::string("before|HTTP/1.1 404 Not Found\r\nDate: "), out.substr(0, 37));
    const std::string rest = out.substr(out.find("\r\nServer:"));
    CPPUNIT_ASSERT_EQUAL(std::string("\r\nServer: portico\r\nContent-Type: application/json\r\n"
                                     "Content-Length: 21\r\n\r\n{\"error\":\"no route\"}\n"),
                         rest);
    CPPUNIT_ASSERT_EQUAL(std::size_t(21), reply.body().size());
  }

  void testHttp1AnswerClosing() {
    const ErrorReply reply(408, "late");
    std::string out;
    reply.writeHttp1(false, out);
    CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 408 Request Timeout\r\n"), out.substr(0, 30));
    CPPUNIT_ASSERT(out.find("\r\nConnection: close\r\n\r\n{\"error\":\"late\"}\n") !=
                   std::string::npos);
  }

  void testHttp2Headers() {
    const ErrorReply reply(503, "none");
    std::vector<std::pair<std::string, std::string>> headers;
    reply.forEachHttp2Header([&](std::string_view name, std::string_view value) {
      headers.emplace_back(std::string(name), std::string(value));
    });
    CPPUNIT_ASSERT_EQUAL(std::size_t(4), headers.size());
    CPPUNIT_ASSERT_EQUAL(std::string("content-type"), headers[0].first);
    CPPUNIT_ASSERT_EQUAL(std::string("application/json"), headers[0].second);
    CPPUNIT_ASSERT_EQUAL(std::string("content-length"), headers[1].first);
    CPPUNIT_ASSERT_EQUAL(std::to_string(reply.body().size()), headers[1].second);
    CPPUNIT_ASSERT_EQUAL(std::string("date"), headers[2].first);
    CPPUNIT_ASSERT(headers[2].second.size() == 29);  // IMF-fixdate
    CPPUNIT_ASSERT_EQUAL(std::string("server"), headers[3].first);
    CPPUNIT_ASSERT_EQUAL(std::string("portico"), headers[3].second);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ErrorReplyTest);
