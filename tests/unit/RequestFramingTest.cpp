#include <Poco/Net/HTTPRequest.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <utility>
#include <vector>

#include "RequestFraming.h"

using portico::FramingRefused;
using portico::RequestFraming;
using Framing = portico::BodyReader::Framing;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Poco::Net::HTTPRequest request(const Headers& headers,
                               const std::string& version = Poco::Net::HTTPMessage::HTTP_1_1) {
  Poco::Net::HTTPRequest r(Poco::Net::HTTPRequest::HTTP_POST, "/", version);
  for (const auto& [name, value] : headers) r.add(name, value);  // add(): repeats stay repeated
  return r;
}

/// The status a refused request gets, or 0 when it is accepted.
int refusal(const Poco::Net::HTTPRequest& r) {
  try {
    RequestFraming::of(r);
    return 0;
  } catch (const FramingRefused& e) {
    return static_cast<int>(e.status);
  }
}

}  // namespace

/// Request body framing: what is accepted, and every ambiguity that is refused.
class RequestFramingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RequestFramingTest);
  CPPUNIT_TEST(testAccepted);
  CPPUNIT_TEST(testRefused);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testAccepted() {
    auto f = RequestFraming::of(request({}));
    CPPUNIT_ASSERT(f.framing == Framing::Empty);
    f = RequestFraming::of(request({{"Content-Length", "0"}}));
    CPPUNIT_ASSERT(f.framing == Framing::Empty);
    f = RequestFraming::of(request({{"Content-Length", "1048576"}}));
    CPPUNIT_ASSERT(f.framing == Framing::Length);
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(1048576), f.length);
    // Repeated but equal lengths are one length (RFC 9112 6.3 allows accepting them).
    f = RequestFraming::of(request({{"Content-Length", "5"}, {"content-length", "5"}}));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), f.length);
    f = RequestFraming::of(request({{"Content-Length", "5, 5"}}));
    CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), f.length);
    f = RequestFraming::of(request({{"Transfer-Encoding", "chunked"}}));
    CPPUNIT_ASSERT(f.framing == Framing::Chunked);
    f = RequestFraming::of(request({{"transfer-encoding", " Chunked "}}));
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
    CPPUNIT_ASSERT_EQUAL(400, refusal(request({{"Transfer-Encoding", "chunked"}},
                                              Poco::Net::HTTPMessage::HTTP_1_0)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestFramingTest);
