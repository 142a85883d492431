#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "base/Errors.h"
#include "base/Utf8.h"

using portico::invalidUtf8At;
using portico::isValidTextWithoutControls;
using portico::isValidUtf8;
using portico::printable;
using portico::toValidUtf8;

/// UTF-8 validation and the printable form every error message is built from.
class Utf8Test : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(Utf8Test);
  CPPUNIT_TEST(testValidation);
  CPPUNIT_TEST(testControls);
  CPPUNIT_TEST(testReplacement);
  CPPUNIT_TEST(testPrintable);
  CPPUNIT_TEST(testPrintableCutsBetweenCharacters);
  CPPUNIT_TEST(testErrorsKeepTextAfterNul);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testValidation() {
    for (const char* ok : {"", "abc", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                           "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xc2\x80"})
      CPPUNIT_ASSERT_MESSAGE(ok, isValidUtf8(ok));
    // Stray bytes, truncations, overlong forms, surrogates, above U+10FFFF.
    for (const char* bad :
         {"\xff", "\xfe", "a\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc0\xaf", "\xc1\xbf",
          "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
          "\xf5\x80\x80\x80", "\xc3\x28", "\xe2\x28\xa1"})
      CPPUNIT_ASSERT_MESSAGE(printable(bad), !isValidUtf8(bad));
    CPPUNIT_ASSERT_EQUAL(std::size_t(3), invalidUtf8At("abc\xff"
                                                       "def"));
    CPPUNIT_ASSERT_EQUAL(std::size_t(5), invalidUtf8At("a\xc3\xa9"
                                                       "bc\xc3"));
  }

  void testControls() {
    CPPUNIT_ASSERT(isValidTextWithoutControls("/caf\xc3\xa9/ x"));
    for (const std::string& bad :
         {std::string("a\0b", 3), std::string("\x1f"), std::string("\x7f"), std::string("\xc2\x85"),
          std::string("\xc2\x9f"), std::string("\xff")})
      CPPUNIT_ASSERT_MESSAGE(printable(bad), !isValidTextWithoutControls(bad));
  }

  void testReplacement() {
    CPPUNIT_ASSERT_EQUAL(std::string("caf\xc3\xa9"), toValidUtf8("caf\xc3\xa9"));
    CPPUNIT_ASSERT_EQUAL(std::string("a\xef\xbf\xbd"
                                     "b"),
                         toValidUtf8("a\xff"
                                     "b"));
    CPPUNIT_ASSERT_EQUAL(std::string("\xef\xbf\xbd\xef\xbf\xbd"), toValidUtf8("\xc0\xaf"));
    CPPUNIT_ASSERT_EQUAL(std::string("x\xef\xbf\xbd\xef\xbf\xbd"), toValidUtf8("x\xe2\x82"));
    CPPUNIT_ASSERT(isValidUtf8(toValidUtf8("\xed\xa0\x80\xf4\x90\x80\x80")));
  }

  void testPrintable() {
    CPPUNIT_ASSERT_EQUAL(std::string("caf\xc3\xa9 /a/"), printable("caf\xc3\xa9 /a/"));
    CPPUNIT_ASSERT_EQUAL(std::string("a\\x00b\\x0A\\x7F"), printable(std::string("a\0b\n\x7f", 5)));
    CPPUNIT_ASSERT_EQUAL(std::string("\\xFF\\xC3("), printable("\xff\xc3("));
    CPPUNIT_ASSERT_EQUAL(std::string("\\u0085\\u202E"), printable("\xc2\x85\xe2\x80\xae"));
    for (const std::string& s :
         {std::string("\xff\x00\x01", 3), std::string("a\xe2\x80\xa8\xc2\x9f"), std::string("x")}) {
      const std::string once = printable(s);
      CPPUNIT_ASSERT(isValidTextWithoutControls(once));
      CPPUNIT_ASSERT_EQUAL(once, printable(once));
    }
  }

  void testPrintableCutsBetweenCharacters() {
    // 63 'a' then 'é' (two bytes): a cut after 64 characters keeps the whole 'é'.
    const std::string prefix = std::string(63, 'a') + "\xc3\xa9" + "tail";
    const std::string shown = printable(prefix, 64);
    CPPUNIT_ASSERT_EQUAL(std::string(63, 'a') + "\xc3\xa9\xe2\x80\xa6", shown);
    CPPUNIT_ASSERT(isValidUtf8(shown));
    CPPUNIT_ASSERT_EQUAL(std::string("ab"), printable("ab", 2));  // no cut, no mark
    CPPUNIT_ASSERT_EQUAL(std::string("\\x00\xe2\x80\xa6"), printable(std::string("\0\0", 2), 1));
  }

  void testErrorsKeepTextAfterNul() {
    const portico::InvalidInput e(std::string("prefix '/a\0b' is bad", 20));
    CPPUNIT_ASSERT_EQUAL(std::string("prefix '/a\\x00b' is bad"), std::string(e.what()));
    const portico::ConfigError c(std::string("a\nb", 3), "unknown configuration key");
    CPPUNIT_ASSERT_EQUAL(std::string("a\\x0Ab: unknown configuration key"), std::string(c.what()));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Utf8Test);
