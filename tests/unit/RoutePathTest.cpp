#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "routing/RoutePath.h"

using portico::RoutePath;

/// Prefix matching and path rewriting (DESIGN "Data plane"), as tables.
class RoutePathTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RoutePathTest);
  CPPUNIT_TEST(testMatches);
  CPPUNIT_TEST(testUpstreamTarget);
  CPPUNIT_TEST(testOriginForm);
  CPPUNIT_TEST(testDotSegments);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testDotSegments() {
    struct Row {
      const char* target;
      bool has;
      const char* resolved;  // nullptr: climbs above the root
    };
    const Row rows[] = {
        {"/proxy/a/b?q=1", false, "/proxy/a/b?q=1"},
        {"/proxy/../personal/x", true, "/personal/x"},
        {"/proxy/a/./b", true, "/proxy/a/b"},
        {"/proxy/a/b/..", true, "/proxy/a/"},
        {"/proxy/.", true, "/proxy/"},
        {"/proxy/..", true, "/"},
        {"/..", true, nullptr},
        {"/proxy/../../etc/passwd", true, nullptr},
        {"/proxy/%2e%2e/personal/", true, "/personal/"},
        {"/proxy/%2E./x", true, "/x"},
        {"/proxy/.%2e/x?a=/../b", true, "/x?a=/../b"},  // the query is not a path
        {"/proxy/x?a=/../b", false, "/proxy/x?a=/../b"},
        {"/proxy/.hidden/a..b/...", false, "/proxy/.hidden/a..b/..."},
        {"/proxy//a/../b", true, "/proxy//b"},  // empty segments are kept
        {"/proxy/%2e%2f", false, "/proxy/%2e%2f"},
        {"http://host/a/../b?x", true, "/b?x"},
        {"/", false, "/"},
    };
    for (const auto& r : rows) {
      const std::string t = r.target;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(t, r.has, RoutePath::hasDotSegment(RoutePath::path(t)));
      const auto resolved = RoutePath::resolveDotSegments(t);
      if (r.resolved == nullptr) {
        CPPUNIT_ASSERT_MESSAGE(t + " should be refused", !resolved);
      } else {
        CPPUNIT_ASSERT_MESSAGE(t + " was refused", resolved.has_value());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(t, std::string(r.resolved), *resolved);
      }
    }
  }

  void testMatches() {
    struct Row {
      const char* path;
      const char* prefix;
      bool matches;
    };
    const Row rows[] = {
        {"/proxy/a/b", "/proxy/", true}, {"/proxy/", "/proxy/", true},
        {"/proxy", "/proxy/", true},     {"/proxyx", "/proxy/", false},
        {"/prox", "/proxy/", false},     {"/", "/proxy/", false},
        {"/a/b/c", "/a/b/", true},       {"/a/bc", "/a/b/", false},
        {"/anything", "/", true},        {"/", "/", true},
        {"/PROXY/a", "/proxy/", false},
    };
    for (const auto& r : rows) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(r.path) + " on " + r.prefix, r.matches,
                                   RoutePath::matches(r.path, r.prefix));
    }
  }

  void testUpstreamTarget() {
    struct Row {
      const char* target;
      const char* prefix;
      const char* base;
      const char* expected;
    };
    const Row rows[] = {
        {"/proxy/a/b?q=1", "/proxy/", "", "/a/b?q=1"},
        {"/proxy/a/b?q=1", "/proxy/", "/v1", "/v1/a/b?q=1"},
        {"/proxy", "/proxy/", "", "/"},
        {"/proxy", "/proxy/", "/base", "/base/"},
        {"/proxy/", "/proxy/", "", "/"},
        {"/proxy/", "/proxy/", "/base", "/base/"},
        {"/proxy?x=1&y=2", "/proxy/", "", "/?x=1&y=2"},
        {"/proxy?x=1", "/proxy/", "/b", "/b/?x=1"},
        {"/a/b/c/d", "/a/b/", "", "/c/d"},
        {"/anything/here?z", "/", "", "/anything/here?z"},
        {"/anything", "/", "/base", "/base/anything"},
        {"/", "/", "", "/"},
        {"/proxy/a%20b/./c", "/proxy/", "", "/a%20b/./c"},  // passed as received, not re-encoded
        {"http://example.com/proxy/a?q", "/proxy/", "", "/a?q"},
    };
    for (const auto& r : rows) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(
          std::string(r.target) + " on " + r.prefix + " base '" + r.base + "'",
          std::string(r.expected), RoutePath::upstreamTarget(r.target, r.prefix, r.base));
    }
  }

  void testOriginForm() {
    CPPUNIT_ASSERT_EQUAL(std::string("/a?b"), std::string(RoutePath::originForm("/a?b")));
    CPPUNIT_ASSERT_EQUAL(std::string("/a?b"), std::string(RoutePath::originForm("http://h:8/a?b")));
    CPPUNIT_ASSERT_EQUAL(std::string("/"), std::string(RoutePath::originForm("HTTP://h")));
    CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(RoutePath::originForm("*")));
    CPPUNIT_ASSERT_EQUAL(std::string("/a"), std::string(RoutePath::path("/a?x=/b")));
    CPPUNIT_ASSERT_EQUAL(std::string("/proxy"), std::string(RoutePath::key("/proxy/")));
    CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(RoutePath::key("/")));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoutePathTest);
