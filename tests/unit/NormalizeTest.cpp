#include <cppunit/extensions/HelperMacros.h>

#include "Errors.h"
#include "Normalize.h"

using portico::InvalidInput;
using portico::normalizePrefix;
using portico::parseTargetUrl;

/// Prefix and target-URL normalisation, shared by the API, the configuration and the proxy.
class NormalizeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(NormalizeTest);
  CPPUNIT_TEST(testPrefixForms);
  CPPUNIT_TEST(testPrefixRejects);
  CPPUNIT_TEST(testUrlForms);
  CPPUNIT_TEST(testUrlRejects);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPrefixForms() {
    for (const char* p : {"api", "/api", "/api/", "api/"})
      CPPUNIT_ASSERT_EQUAL(std::string("/api/"), normalizePrefix(p));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), normalizePrefix("/"));
    CPPUNIT_ASSERT_EQUAL(std::string("/a/b/"), normalizePrefix("a/b"));
    CPPUNIT_ASSERT_EQUAL(std::string("/v1.2/x-y_z/"), normalizePrefix("/v1.2/x-y_z"));
  }

  void testPrefixRejects() {
    for (const char* p :
         {"", "/a b", "/a\t", "/a?x", "/a#x", "/a//b", "//", "/../x", "/a/./b", "/a%20", "a\\b"})
      CPPUNIT_ASSERT_THROW_MESSAGE(p, normalizePrefix(p), InvalidInput);
    CPPUNIT_ASSERT_THROW(normalizePrefix("/" + std::string(1100, 'a')), InvalidInput);
  }

  void testUrlForms() {
    auto u = parseTargetUrl("http://localhost:8081");
    CPPUNIT_ASSERT_EQUAL(std::string("localhost"), u.host);
    CPPUNIT_ASSERT_EQUAL(8081, static_cast<int>(u.port));
    CPPUNIT_ASSERT_EQUAL(std::string(""), u.basePath);
    CPPUNIT_ASSERT_EQUAL(std::string("http://localhost:8081"), u.canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("localhost:8081"), u.authority());

    CPPUNIT_ASSERT_EQUAL(std::string("http://localhost:8081"),
                         parseTargetUrl("HTTP://LocalHost:8081/").canonical);
    u = parseTargetUrl("http://example.com/base/v1/");
    CPPUNIT_ASSERT_EQUAL(80, static_cast<int>(u.port));
    CPPUNIT_ASSERT_EQUAL(std::string("/base/v1"), u.basePath);
    CPPUNIT_ASSERT_EQUAL(std::string("http://example.com/base/v1"), u.canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("example.com:80"), u.authority());

    u = parseTargetUrl("http://[::1]:9000");
    CPPUNIT_ASSERT_EQUAL(std::string("::1"), u.host);
    CPPUNIT_ASSERT_EQUAL(std::string("[::1]:9000"), u.authority());
    CPPUNIT_ASSERT_EQUAL(std::string("http://[::1]:9000"), u.canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:1"),
                         parseTargetUrl("http://127.0.0.1:1").canonical);
    // One backend, one spelling: the default port is implied.
    CPPUNIT_ASSERT_EQUAL(std::string("http://h/x"), parseTargetUrl("http://h:80/x/").canonical);
    CPPUNIT_ASSERT_EQUAL(parseTargetUrl("http://h").canonical,
                         parseTargetUrl("http://h:80").canonical);
  }

  void testUrlRejects() {
    for (const char* bad : {"", "localhost:8081", "https://x:1", "ftp://x", "http://", "http://:80",
                            "http://x:0", "http://x:65536", "http://x:abc", "http://x:",
                            "http://x :80", "http://x/a b", "http://u:p@x", "http://x/?q=1",
                            "http://x/#f", "http://[::1", "http://x\n", "http://exa$mple"})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, parseTargetUrl(bad), InvalidInput);
    CPPUNIT_ASSERT_THROW(parseTargetUrl("http://x/" + std::string(2100, 'a')), InvalidInput);
    // The message says what form is expected.
    try {
      parseTargetUrl("https://x");
      CPPUNIT_FAIL("accepted https");
    } catch (const InvalidInput& e) {
      CPPUNIT_ASSERT(std::string(e.what()).find("http://host[:port][/base]") != std::string::npos);
    }
  }
};
CPPUNIT_TEST_SUITE_REGISTRATION(NormalizeTest);
