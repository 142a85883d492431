#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "forward/HeaderFilter.h"
#include "http/HttpHead.h"

using portico::HeaderFilter;
using portico::http::HttpHead;

/// Which headers cross the proxy: hop-by-hop ones never do (DESIGN "Data plane").
class HeaderFilterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HeaderFilterTest);
  CPPUNIT_TEST(testHopByHopNames);
  CPPUNIT_TEST(testConnectionTokens);
  CPPUNIT_TEST(testConnectionListedHeadersDropped);
  CPPUNIT_TEST(testForwardedKeepsRepeatsAndDropsComputed);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testHopByHopNames() {
    struct Row {
      const char* name;
      bool hop;
    };
    const Row rows[] = {
        {"Connection", true},
        {"connection", true},
        {"Keep-Alive", true},
        {"TE", true},
        {"te", true},
        {"Trailer", true},
        {"Transfer-Encoding", true},
        {"Upgrade", true},
        {"Proxy-Authorization", true},
        {"Proxy-Connection", true},
        {"proxy-authenticate", true},
        {"Host", false},
        {"Content-Length", false},
        {"Content-Type", false},
        {"Trailers", false},
        {"X-Forwarded-For", false},
        {"Proxyish", false},
        {"Accept", false},
        {"Set-Cookie", false},
    };
    for (const auto& r : rows)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.name, r.hop, HeaderFilter::isHopByHop(r.name));
  }

  void testConnectionTokens() {
    CPPUNIT_ASSERT(HeaderFilter::connectionTokens("") == std::vector<std::string>{});
    CPPUNIT_ASSERT(HeaderFilter::connectionTokens("close") == std::vector<std::string>{"close"});
    CPPUNIT_ASSERT((HeaderFilter::connectionTokens(" Keep-Alive ,X-Foo,, \tUpgrade ") ==
                    std::vector<std::string>{"keep-alive", "x-foo", "upgrade"}));
  }

  void testConnectionListedHeadersDropped() {
    HttpHead request;
    request.addOwned("Connection", "keep-alive, X-Secret");
    request.addOwned("Connection", "x-other");  // a second Connection header counts too
    request.addOwned("X-Secret", "1");
    request.addOwned("X-Other", "2");
    request.addOwned("X-Kept", "3");
    const HeaderFilter filter(request);
    CPPUNIT_ASSERT(!filter.forwards("X-Secret"));
    CPPUNIT_ASSERT(!filter.forwards("x-secret"));
    CPPUNIT_ASSERT(!filter.forwards("X-Other"));
    CPPUNIT_ASSERT(!filter.forwards("Keep-Alive"));
    CPPUNIT_ASSERT(!filter.forwards("Connection"));
    CPPUNIT_ASSERT(filter.forwards("X-Kept"));
    CPPUNIT_ASSERT(filter.forwards("Host"));
  }

  void testForwardedKeepsRepeatsAndDropsComputed() {
    HttpHead from;
    from.addOwned("Set-Cookie", "a=1");
    from.addOwned("Set-Cookie", "b=2");
    from.addOwned("Transfer-Encoding", "chunked");
    from.addOwned("Content-Length", "10");
    from.addOwned("Connection", "close");
    from.addOwned("Keep-Alive", "timeout=5");
    from.addOwned("Proxy-Authenticate", "Basic");
    from.addOwned("Date", "yesterday");
    const std::vector<portico::http::KnownHeader> computed = {
        portico::http::KnownHeader::ContentLength};
    const HeaderFilter filter(from, &computed);
    std::vector<std::string> names;
    filter.forEachForwarded([&names](std::string_view name, std::string_view value) {
      names.push_back(std::string(name) + "=" + std::string(value));
    });
    CPPUNIT_ASSERT(
        (names == std::vector<std::string>{"Set-Cookie=a=1", "Set-Cookie=b=2", "Date=yesterday"}));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HeaderFilterTest);
