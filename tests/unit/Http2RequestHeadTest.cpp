#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "loop/Http2RequestHead.h"

using portico::Http2RequestHead;

namespace {

std::string field(const Http2RequestHead& r, std::string_view name) {
  std::string_view value;
  return r.head().find(name, value) ? std::string(value) : std::string("<none>");
}

void request(Http2RequestHead& r, std::string_view path = "/a?b=1") {
  r.add(":method", "POST");
  r.add(":scheme", "https");
  r.add(":authority", "a.test");
  r.add(":path", path);
}

}  // namespace

/// An HTTP/2 request's fields as its HTTP/1.1 target gets them, and the header list limit the
/// proxy advertises as SETTINGS_MAX_HEADER_LIST_SIZE.
class Http2RequestHeadTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(Http2RequestHeadTest);
  CPPUNIT_TEST(testPseudoHeadersBecomeTheRequestLineAndHost);
  CPPUNIT_TEST(testAHostFieldWinsOverTheAuthority);
  CPPUNIT_TEST(testSplitCookiesAreJoined);
  CPPUNIT_TEST(testABodyOfUnknownLengthGoesChunked);
  CPPUNIT_TEST(testTheListLimitCountsNameValueAnd32);
  CPPUNIT_TEST(testAReusedHeadForgetsThePreviousRequest);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPseudoHeadersBecomeTheRequestLineAndHost() {
    Http2RequestHead r(32768);
    request(r);
    r.add("accept", "*/*");
    r.finish(true);
    CPPUNIT_ASSERT(!r.tooLarge());
    CPPUNIT_ASSERT_EQUAL(std::string("POST"), std::string(r.head().method()));
    CPPUNIT_ASSERT_EQUAL(std::string("/a?b=1"), std::string(r.head().target()));
    CPPUNIT_ASSERT(r.head().http11());
    CPPUNIT_ASSERT_EQUAL(std::string("a.test"), field(r, "Host"));
    CPPUNIT_ASSERT_EQUAL(std::string("*/*"), field(r, "Accept"));
    // No body: nothing says how one is framed; :scheme goes nowhere.
    CPPUNIT_ASSERT_EQUAL(std::string("<none>"), field(r, "Transfer-Encoding"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.head().fieldCount());
  }

  void testAHostFieldWinsOverTheAuthority() {
    Http2RequestHead r(32768);
    request(r);
    r.add("host", "b.test");
    r.finish(true);
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.head().count("Host"));
    CPPUNIT_ASSERT_EQUAL(std::string("b.test"), field(r, "Host"));
  }

  void testSplitCookiesAreJoined() {
    Http2RequestHead r(32768);
    request(r);
    r.add("cookie", "a=1");
    r.add("x", "y");
    r.add("cookie", "b=2");
    r.finish(true);
    // RFC 9113 8.2.3: one Cookie field for an HTTP/1.1 target, "; " between the pieces.
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.head().count("Cookie"));
    CPPUNIT_ASSERT_EQUAL(std::string("a=1; b=2"), field(r, "Cookie"));
  }

  void testABodyOfUnknownLengthGoesChunked() {
    Http2RequestHead unknown(32768);
    request(unknown);
    unknown.finish(false);
    CPPUNIT_ASSERT_EQUAL(std::string("chunked"), field(unknown, "Transfer-Encoding"));
    Http2RequestHead known(32768);
    request(known);
    known.add("content-length", "5");
    known.finish(false);
    CPPUNIT_ASSERT_EQUAL(std::string("<none>"), field(known, "Transfer-Encoding"));
    CPPUNIT_ASSERT_EQUAL(std::string("5"), field(known, "Content-Length"));
  }

  void testTheListLimitCountsNameValueAnd32() {
    // The pseudo-headers: (7+4+32) + (7+5+32) + (10+6+32) + (5+6+32) = 178 bytes.
    Http2RequestHead exact(178 + 1 + 1 + 32);
    request(exact);
    exact.add("a", "b");
    exact.finish(true);
    CPPUNIT_ASSERT(!exact.tooLarge());
    CPPUNIT_ASSERT_EQUAL(std::string("b"), field(exact, "A"));

    Http2RequestHead over(178 + 1 + 1 + 31);
    request(over);
    over.add("a", "b");
    for (int i = 0; i < 1000; ++i) over.add("x-many", "0123456789");
    over.finish(true);
    CPPUNIT_ASSERT(over.tooLarge());
    // Nothing of an oversized list is kept or passed on.
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), over.head().fieldCount());
  }

  void testAReusedHeadForgetsThePreviousRequest() {
    // A connection hands a closed stream's head to its next stream.
    Http2RequestHead r(32768);
    request(r, "/first");
    r.add("cookie", "a=1");
    r.add("content-length", "3");
    r.finish(false);
    r.clear();
    CPPUNIT_ASSERT(r.empty());
    r.add(":method", "GET");
    r.add(":authority", "b.test");
    r.add(":path", "/second");
    r.add("accept", "*/*");
    r.finish(false);
    CPPUNIT_ASSERT_EQUAL(std::string("GET"), std::string(r.head().method()));
    CPPUNIT_ASSERT_EQUAL(std::string("/second"), std::string(r.head().target()));
    CPPUNIT_ASSERT_EQUAL(std::string("b.test"), field(r, "Host"));
    CPPUNIT_ASSERT_EQUAL(std::string("<none>"), field(r, "Cookie"));
    CPPUNIT_ASSERT_EQUAL(std::string("<none>"), field(r, "Content-Length"));
    CPPUNIT_ASSERT_EQUAL(std::string("chunked"), field(r, "Transfer-Encoding"));
    CPPUNIT_ASSERT_EQUAL(std::string("Host"), std::string(r.head().name(0)));  // first, as before
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.head().fieldCount());
    // A head that held a large request starts afresh and is as good.
    Http2RequestHead large(32768);
    request(large);
    for (int i = 0; i < 100; ++i) large.add("x-many", std::string(60, 'x'));
    large.finish(true);
    large.clear();
    request(large, "/after");
    large.finish(true);
    CPPUNIT_ASSERT_EQUAL(std::string("/after"), std::string(large.head().target()));
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), large.head().fieldCount());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Http2RequestHeadTest);
