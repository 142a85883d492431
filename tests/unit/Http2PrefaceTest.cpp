#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "http/Http2Preface.h"

using portico::http::kHttp2Preface;
using portico::http::matchHttp2Preface;
using portico::http::PrefaceMatch;

/// The plain listener's choice between HTTP/1.1 and HTTP/2 with prior knowledge (RFC 9113 3.3).
class Http2PrefaceTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(Http2PrefaceTest);
  CPPUNIT_TEST(testTable);
  CPPUNIT_TEST(testEveryPrefixWaits);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTable() {
    const std::string preface(kHttp2Preface);
    struct Row {
      std::string bytes;
      PrefaceMatch expected;
    };
    const Row rows[] = {
        {"", PrefaceMatch::Partial},
        {"P", PrefaceMatch::Partial},
        {"PRI * HTTP/2.0\r\n", PrefaceMatch::Partial},
        {preface, PrefaceMatch::Http2},
        // The client's SETTINGS frame follows the preface in the same read.
        {preface + std::string("\0\0\0\4\0\0\0\0\0", 9), PrefaceMatch::Http2},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", PrefaceMatch::Http1},
        {"POST", PrefaceMatch::Http1},
        {"PUT / HTTP/1.1\r\n\r\n", PrefaceMatch::Http1},
        // A PRI request line of HTTP/1.1 is not the preface: its parser answers it.
        {"PRI * HTTP/1.1\r\n\r\n", PrefaceMatch::Http1},
        {"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", PrefaceMatch::Http1},
        {"pri * HTTP/2.0\r\n\r\nSM\r\n\r\n", PrefaceMatch::Http1},
        {"\x16\x03\x01", PrefaceMatch::Http1},  // a TLS ClientHello on the plain port
    };
    for (const Row& r : rows)
      CPPUNIT_ASSERT_MESSAGE(r.bytes, matchHttp2Preface(r.bytes) == r.expected);
  }

  void testEveryPrefixWaits() {
    for (std::size_t n = 0; n < kHttp2Preface.size(); ++n)
      CPPUNIT_ASSERT(matchHttp2Preface(kHttp2Preface.substr(0, n)) == PrefaceMatch::Partial);
    CPPUNIT_ASSERT_EQUAL(std::size_t{24}, kHttp2Preface.size());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Http2PrefaceTest);
