#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <utility>
#include <vector>

#include "http/HttpHead.h"
#include "http/MessageFraming.h"

using portico::http::HttpHead;
using portico::http::MessageFraming;
using Framing = portico::http::BodyFraming;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpHead request(const Headers& headers, int minorVersion = 1) {
  HttpHead r;
  r.setMethod(r.own("POST"));
  r.setTarget(r.own("/"));
  r.setVersion(1, minorVersion);
  for (const auto& [name, value] : headers) r.addOwned(name, value);  // repeats stay repeated
  return r;
}

HttpHead response(const Headers& headers) {
  HttpHead r;
  r.setStatus(200);
  for (const auto& [name, value] : headers) r.addOwned(name, value);
  return r;
}

/// The status a refused response gets, or 0 when it is accepted.
int responseRefusal(const HttpHead& r) {
  return MessageFraming::ofResponse(r, false).refusal;
}

/// The status a refused request gets, or 0 when it is accepted.
int refusal(const HttpHead& r) {
  return MessageFraming::ofRequest(r).refusal;
}

}  // namespace

/// Body framing of requests and responses: what is accepted, and every ambiguity refused.
class MessageFramingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MessageFramingTest);
  CPPUNIT_TEST(testAccepted);
  CPPUNIT_TEST(testRefused);
  CPPUNIT_TEST(testResponses);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testAccepted() {
    auto f = MessageFraming::ofRequest(request({}));
    CPPUNIT_ASSERT(f.framing == Framing::Empty);
    f = MessageFraming::ofRequest(request({{"Content-Length", "0"}}));
    CPPUNIT_ASSERT(f.framing == Framing::Empty);
    f = MessageFraming::ofRequest(request({{"Content-Length", "1048576"}}));
    CPPUNIT_ASSERT(f.framing == Framing::Length);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1048576), f.length);
    // Repeated but equal lengths are one length (RFC 9112 6.3 allows accepting them).
    f = MessageFraming::ofRequest(request({{"Content-Length", "5"}, {"content-length", "5"}}));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), f.length);
    f = MessageFraming::ofRequest(request({{"Content-Length", "5, 5"}}));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), f.length);
    f = MessageFraming::ofRequest(request({{"Transfer-Encoding", "chunked"}}));
    CPPUNIT_ASSERT(f.framing == Framing::Chunked);
    f = MessageFraming::ofRequest(request({{"transfer-encoding", " Chunked "}}));
    CPPUNIT_ASSERT(f.framing == Framing::Chunked);
  }

  void testRefused() {
    const struct {
      Headers headers;
      int status;
    } rows[] = {
        {{{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}, 400},
        {{{"Content-Length", "5"}, {"Content-Length", "6"}}, 400},
        {{{"Content-Length", "5, 6"}}, 400},
        {{{"Content-Length", "-1"}}, 400},
        {{{"Content-Length", "+5"}}, 400},
        {{{"Content-Length", "0x10"}}, 400},
        {{{"Content-Length", "abc"}}, 400},
        {{{"Content-Length", ""}}, 400},
        {{{"Content-Length", "99999999999999999999"}}, 400},
        {{{"Transfer-Encoding", "chunked, gzip"}}, 400},
        {{{"Transfer-Encoding", "xchunked"}}, 400},
        {{{"Transfer-Encoding", "identity"}}, 400},
        {{{"Transfer-Encoding", ""}}, 400},
        {{{"Transfer-Encoding", "gzip, chunked"}}, 501},
        {{{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}}, 501},
    };
    for (const auto& row : rows) {
      std::string label;
      for (const auto& [n, v] : row.headers) label += n + ": " + v + "; ";
      CPPUNIT_ASSERT_EQUAL_MESSAGE(label, row.status, refusal(request(row.headers)));
    }
    CPPUNIT_ASSERT_EQUAL(400, refusal(request({{"Transfer-Encoding", "chunked"}}, 0)));
  }

  void testResponses() {
    const struct {
      Headers headers;
      Framing framing;
      std::uint64_t length;
    } accepted[] = {
        {{}, Framing::UntilClose, 0},
        {{{"Content-Length", "0"}}, Framing::Length, 0},
        {{{"Content-Length", "12"}, {"Content-Length", "12"}}, Framing::Length, 12},
        {{{"Transfer-Encoding", "chunked"}}, Framing::Chunked, 0},
        // Transfer-Encoding wins over Content-Length (RFC 9112 6.3); the length is not passed on.
        {{{"Transfer-Encoding", "chunked"}, {"Content-Length", "7"}}, Framing::Chunked, 0},
        {{{"Transfer-Encoding", "identity"}}, Framing::UntilClose, 0},
    };
    for (const auto& row : accepted) {
      const auto f = MessageFraming::ofResponse(response(row.headers), false);
      CPPUNIT_ASSERT(f.framing == row.framing);
      CPPUNIT_ASSERT_EQUAL(row.length, f.length);
    }
    CPPUNIT_ASSERT(MessageFraming::ofResponse(response({{"Content-Length", "x"}}), true).framing ==
                   Framing::Empty);
    CPPUNIT_ASSERT_EQUAL(502, responseRefusal(response({{"Content-Length", "12, 13"}})));
    CPPUNIT_ASSERT_EQUAL(502, responseRefusal(response({{"Content-Length", "-3"}})));
    CPPUNIT_ASSERT_EQUAL(502, responseRefusal(response({{"Transfer-Encoding", "gzip, chunked"}})));
    CPPUNIT_ASSERT_EQUAL(502, responseRefusal(response({{"Transfer-Encoding", "gzip"}})));
    CPPUNIT_ASSERT(!MessageFraming::announcedLength(response({{"Content-Length", "1x"}})));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(9),
                         *MessageFraming::announcedLength(response({{"Content-Length", "9"}})));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MessageFramingTest);
