#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "HeaderFilter.h"

using portico::HeaderFilter;

/// Which headers cross the proxy: hop-by-hop ones never do (DESIGN "Data plane").
class HeaderFilterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HeaderFilterTest);
  CPPUNIT_TEST(testHopByHopNames);
  CPPUNIT_TEST(testConnectionTokens);
  CPPUNIT_TEST(testConnectionListedHeadersDropped);
  CPPUNIT_TEST(testCopyKeepsRepeatsAndDropsComputed);
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
    Poco::Net::HTTPRequest request;
    request.add("Connection", "keep-alive, X-Secret");
    request.add("Connection", "x-other");  // a second Connection header counts too
    request.add("X-Secret", "1");
    request.add("X-Other", "2");
    request.add("X-Kept", "3");
    const HeaderFilter filter(request);
    CPPUNIT_ASSERT(!filter.forwards("X-Secret"));
    CPPUNIT_ASSERT(!filter.forwards("x-secret"));
    CPPUNIT_ASSERT(!filter.forwards("X-Other"));
    CPPUNIT_ASSERT(!filter.forwards("Keep-Alive"));
    CPPUNIT_ASSERT(!filter.forwards("Connection"));
    CPPUNIT_ASSERT(filter.forwards("X-Kept"));
    CPPUNIT_ASSERT(filter.forwards("Host"));
  }

  void testCopyKeepsRepeatsAndDropsComputed() {
    Poco::Net::HTTPResponse from;
    from.add("Set-Cookie", "a=1");
    from.add("Set-Cookie", "b=2");
    from.add("Transfer-Encoding", "chunked");
    from.add("Content-Length", "10");
    from.add("Connection", "close");
    from.add("Keep-Alive", "timeout=5");
    from.add("Proxy-Authenticate", "Basic");
    from.add("Date", "yesterday");
    const std::vector<std::string_view> computed = {"Content-Length"};
    const HeaderFilter filter(from, &computed);
    Poco::Net::HTTPResponse to;
    filter.copy(from, to);
    std::vector<std::string> names;
    for (const auto& [name, value] : to) names.push_back(name + "=" + value);
    CPPUNIT_ASSERT(
        (names == std::vector<std::string>{"Set-Cookie=a=1", "Set-Cookie=b=2", "Date=yesterday"}));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HeaderFilterTest);
