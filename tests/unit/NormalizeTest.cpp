#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <utility>
#include <vector>

#include "base/Errors.h"
#include "base/Utf8.h"
#include "model/Normalize.h"

using portico::InvalidInput;
using portico::normalizeHost;
using portico::normalizePrefix;
using portico::parseTargetUrl;

/// Prefix and target-URL normalisation, shared by the API, the configuration and the proxy.
class NormalizeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(NormalizeTest);
  CPPUNIT_TEST(testPrefixForms);
  CPPUNIT_TEST(testPrefixRejects);
  CPPUNIT_TEST(testUrlForms);
  CPPUNIT_TEST(testHttpsUrl);
  CPPUNIT_TEST(testUrlRejects);
  CPPUNIT_TEST(testPrefixText);
  CPPUNIT_TEST(testUrlIsAscii);
  CPPUNIT_TEST(testMessagesArePrintable);
  CPPUNIT_TEST(testHostForms);
  CPPUNIT_TEST(testHostRejects);
  CPPUNIT_TEST_SUITE_END();

 public:
  // A route's host (issue #19, point 3): what is kept, and how.
  void testHostForms() {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", ""},
        {"api.example.com", "api.example.com"},
        {"API.Example.COM", "api.example.com"},
        {"api.example.com.", "api.example.com"},
        {"*.example.com", "*.example.com"},
        {"*.Example.com", "*.example.com"},
        {"xn--bcher-kva.example", "xn--bcher-kva.example"},
        {"10.0.0.1", "10.0.0.1"},
        {"[::1]", "[::1]"},
        {"::1", "[::1]"},
        {"[2001:DB8::1]", "[2001:db8::1]"},
        {"localhost", "localhost"},
        {"a-b.c1", "a-b.c1"},
        {std::string(63, 'a') + ".com", std::string(63, 'a') + ".com"},
    };
    for (const auto& [raw, expected] : cases)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(raw, expected, normalizeHost(raw));
    // 253 bytes is the longest name.
    std::string longest;
    while (longest.size() < 253) longest += longest.empty() ? "a" : ".a";
    CPPUNIT_ASSERT_EQUAL(std::size_t(253), normalizeHost(longest).size());
  }

  // Every host the API must refuse, each with a message naming what is wrong.
  void testHostRejects() {
    std::string tooLong;
    while (tooLong.size() < 254) tooLong += tooLong.empty() ? "a" : ".a";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"a b.com", "space or control"},
        {"a.com\t", "space or control"},
        {std::string("a\x01.com"), "space or control"},
        {"a.com\x7f", "space or control"},
        {"a.com:80", "port"},
        {"[::1]:80", "port"},
        {"[::1", "no ']'"},
        {"[zz::1]", "not an IPv6"},
        {"*", "'*' only as its whole first label"},
        {"*.", "'*' only as its whole first label"},
        {"a.*.com", "'*' only as its whole first label"},
        {"*a.com", "'*' only as its whole first label"},
        {"a*.com", "'*' only as its whole first label"},
        {"*.*.com", "'*' only as its whole first label"},
        {std::string(64, 'a') + ".com", "label over 63"},
        {tooLong, "longer than 253"},
        {"a..com", "empty label"},
        {".a.com", "empty label"},
        {".", "empty label"},
        {"a_b.com", "may hold only"},
        {"a/b", "may hold only"},
        {"b\xc3\xbc"
         "cher.example",
         "xn--"},
    };
    for (const auto& [raw, why] : cases) {
      std::string message;
      try {
        normalizeHost(raw);
      } catch (const InvalidInput& e) {
        message = e.what();
      }
      CPPUNIT_ASSERT_MESSAGE("refused: " + raw, !message.empty());
      CPPUNIT_ASSERT_MESSAGE(raw + ": " + message, message.find(why) != std::string::npos);
      CPPUNIT_ASSERT_MESSAGE(message, portico::isValidUtf8(message));
    }
  }

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
    CPPUNIT_ASSERT(!parseTargetUrl("http://h").tls);
  }

  void testHttpsUrl() {
    // As the original library: https targets speak TLS, port 443 unless given.
    auto u = parseTargetUrl("HTTPS://Api.Internal/v1/");
    CPPUNIT_ASSERT(u.tls);
    CPPUNIT_ASSERT_EQUAL(443, static_cast<int>(u.port));
    CPPUNIT_ASSERT_EQUAL(std::string("https://api.internal/v1"), u.canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("api.internal:443"), u.authority());
    u = parseTargetUrl("https://api.internal:8443");
    CPPUNIT_ASSERT_EQUAL(8443, static_cast<int>(u.port));
    CPPUNIT_ASSERT_EQUAL(std::string("https://api.internal:8443"), u.canonical);
    // 443 is implied for https only; http on 443 keeps its port, so the two never collide.
    CPPUNIT_ASSERT_EQUAL(std::string("https://h"), parseTargetUrl("https://h:443").canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("http://h:443"), parseTargetUrl("http://h:443").canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("https://h:80"), parseTargetUrl("https://h:80").canonical);
  }

  void testUrlRejects() {
    for (const char* bad : {"", "localhost:8081", "httpx://x:1", "ftp://x", "http://", "http://:80",
                            "http://x:0", "http://x:65536", "http://x:abc", "http://x:",
                            "http://x :80", "http://x/a b", "http://u:p@x", "http://x/?q=1",
                            "http://x/#f", "http://[::1", "http://x\n", "http://exa$mple"})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, parseTargetUrl(bad), InvalidInput);
    CPPUNIT_ASSERT_THROW(parseTargetUrl("http://x/" + std::string(2100, 'a')), InvalidInput);
    // The message says what form is expected.
    try {
      parseTargetUrl("ftp://x");
      CPPUNIT_FAIL("accepted ftp");
    } catch (const InvalidInput& e) {
      CPPUNIT_ASSERT(std::string(e.what()).find("http(s)://host[:port][/base]") !=
                     std::string::npos);
    }
  }

  void testPrefixText() {
    // UTF-8 prefixes are kept; bytes that are not UTF-8 and controls (C0, DEL, C1) are refused.
    CPPUNIT_ASSERT_EQUAL(std::string("/caf\xc3\xa9/"), normalizePrefix("caf\xc3\xa9"));
    for (const std::string& bad :
         {std::string("/\xff/"), std::string("/a\xc3"), std::string("/\xed\xa0\x80/"),
          std::string("/a\0b", 4), std::string("/a\x7f"), std::string("/a\xc2\x85")})
      CPPUNIT_ASSERT_THROW_MESSAGE(portico::printable(bad), normalizePrefix(bad), InvalidInput);
  }

  void testUrlIsAscii() {
    // A base path is stored percent-encoded; what is already encoded stays as it is.
    CPPUNIT_ASSERT_EQUAL(std::string("http://h/caf%C3%A9/a%20b"),
                         parseTargetUrl("http://h/caf\xc3\xa9/a%20b").canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("http://h/%22%3C%3E%5C%5E%60%7B%7C%7D"),
                         parseTargetUrl("http://h/\"<>\\^`{|}").canonical);
    CPPUNIT_ASSERT_EQUAL(std::string("http://h/a-._~!$&'()*+,;=:@b"),
                         parseTargetUrl("http://h/a-._~!$&'()*+,;=:@b").canonical);
    for (const char* url : {"http://h/caf\xc3\xa9", "http://[::1]:81/x%2F", "http://H:80/A/"}) {
      const std::string canonical = parseTargetUrl(url).canonical;
      CPPUNIT_ASSERT_EQUAL(canonical, parseTargetUrl(canonical).canonical);  // a fixed point
    }
    for (const std::string& bad :
         {std::string("http://h/%zz"), std::string("http://h/a%"), std::string("http://h/a%4"),
          std::string("http://caf\xc3\xa9.example/"), std::string("http://h/\xff"),
          std::string("http://h/a\xc2\x85"), std::string("http://h/\0", 10)})
      CPPUNIT_ASSERT_THROW_MESSAGE(portico::printable(bad), parseTargetUrl(bad), InvalidInput);
  }

  void testMessagesArePrintable() {
    // 63 'a' and an 'é': the quoted prefix is cut after the whole 'é', never inside it.
    const std::string prefix = "/" + std::string(62, 'a') + "\xc3\xa9?x";
    try {
      normalizePrefix(prefix);
      CPPUNIT_FAIL("accepted " + prefix);
    } catch (const InvalidInput& e) {
      const std::string what = e.what();
      CPPUNIT_ASSERT_MESSAGE(what, portico::isValidUtf8(what));
      CPPUNIT_ASSERT_MESSAGE(
          what, what.find(std::string(62, 'a') + "\xc3\xa9\xe2\x80\xa6") != std::string::npos);
    }
    // An embedded NUL is shown, and the text after it is still there.
    try {
      parseTargetUrl(std::string("http://h/a\0tail", 15));
      CPPUNIT_FAIL("accepted a NUL");
    } catch (const InvalidInput& e) {
      CPPUNIT_ASSERT_MESSAGE(e.what(),
                             std::string(e.what()).find("a\\x00tail") != std::string::npos);
    }
  }
};
CPPUNIT_TEST_SUITE_REGISTRATION(NormalizeTest);
