#include <cppunit/extensions/HelperMacros.h>

#include "base/Errors.h"
#include "store/IfMatch.h"

using portico::IfMatch;
using portico::InvalidInput;

/// If-Match headers against the store's revision ETags ("12").
class IfMatchTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(IfMatchTest);
  CPPUNIT_TEST(testNoHeaderOrStarAllowsAnyRevision);
  CPPUNIT_TEST(testStrongRevisionTags);
  CPPUNIT_TEST(testWeakAndForeignTagsNeverMatch);
  CPPUNIT_TEST(testMalformedHeadersRejected);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testNoHeaderOrStarAllowsAnyRevision() {
    const IfMatch none;
    CPPUNIT_ASSERT(!none.constrains());
    CPPUNIT_ASSERT(none.matches(1) && none.matches(987654));
    for (const char* star : {"*", " * ", "\t*"}) {
      const auto m = IfMatch::parse(star);
      CPPUNIT_ASSERT_MESSAGE(star, !m.constrains());
      CPPUNIT_ASSERT(m.matches(42));
    }
  }

  void testStrongRevisionTags() {
    const auto one = IfMatch::parse("\"12\"");
    CPPUNIT_ASSERT(one.constrains());
    CPPUNIT_ASSERT(one.matches(12));
    CPPUNIT_ASSERT(!one.matches(11) && !one.matches(13) && !one.matches(120));
    const auto list = IfMatch::parse(" \"7\" ,\"12\",, \"40\" ");
    CPPUNIT_ASSERT(list.matches(7) && list.matches(12) && list.matches(40));
    CPPUNIT_ASSERT(!list.matches(8));
    CPPUNIT_ASSERT(IfMatch::parse("\"0012\"").matches(12));  // a number, not a spelling
    CPPUNIT_ASSERT_EQUAL(std::string(" \"7\" ,\"12\",, \"40\" "), list.text());
  }

  void testWeakAndForeignTagsNeverMatch() {
    // Strong comparison (RFC 9110 8.8.3.2): a weak tag is no use for a write.
    CPPUNIT_ASSERT(!IfMatch::parse("W/\"12\"").matches(12));
    CPPUNIT_ASSERT(IfMatch::parse("W/\"12\"").constrains());
    // Valid entity tags that are not revisions of this store.
    for (const char* tag : {"\"abc\"", "\"\"", "\"12a\"", "\"-1\"", "\"99999999999999999999\""}) {
      const auto m = IfMatch::parse(tag);
      CPPUNIT_ASSERT_MESSAGE(tag, m.constrains());
      CPPUNIT_ASSERT_MESSAGE(tag, !m.matches(12) && !m.matches(0) && !m.matches(-1));
    }
  }

  void testMalformedHeadersRejected() {
    for (const char* bad : {"12", "", "  ", "\"12", "12\"", "\"1 2\"", "\"12\" \"13\"", "*, \"12\"",
                            "W/12", "\"12\";x", ","}) {
      try {
        IfMatch::parse(bad);
        CPPUNIT_FAIL(std::string("accepted If-Match '") + bad + "'");
      } catch (const InvalidInput& e) {
        CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find("If-Match") == 0);
      }
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IfMatchTest);
