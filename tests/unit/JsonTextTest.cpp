#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "base/JsonText.h"

using portico::appendJsonString;
using portico::jsonString;

/// Hand-built JSON strings must parse back to the original text, whatever it holds.
class JsonTextTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(JsonTextTest);
  CPPUNIT_TEST(testEscapes);
  CPPUNIT_TEST(testRoundTripThroughParser);
  CPPUNIT_TEST(testAppendKeepsPrefix);
  CPPUNIT_TEST(testInvalidUtf8IsReplaced);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEscapes() {
    CPPUNIT_ASSERT_EQUAL(std::string("\"\""), jsonString(""));
    CPPUNIT_ASSERT_EQUAL(std::string("\"a\\\"b\\\\c\""), jsonString("a\"b\\c"));
    CPPUNIT_ASSERT_EQUAL(std::string("\"\\n\\r\\t\""), jsonString("\n\r\t"));
    CPPUNIT_ASSERT_EQUAL(std::string("\"\\u0001\\u001f\""), jsonString("\x01\x1f"));
    CPPUNIT_ASSERT_EQUAL(std::string("\"\\u0000\""), jsonString(std::string_view("\0", 1)));
    // UTF-8 passes through untouched; '/' needs no escape.
    CPPUNIT_ASSERT_EQUAL(std::string("\"h\xc3\xa9/\""), jsonString("h\xc3\xa9/"));
  }

  void testRoundTripThroughParser() {
    std::string all;
    for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
    all += "caf\xc3\xa9";
    Poco::JSON::Parser parser;
    const auto parsed = parser.parse("{\"s\":" + jsonString(all) + "}");
    CPPUNIT_ASSERT_EQUAL(all,
                         parsed.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("s"));
  }

  void testAppendKeepsPrefix() {
    std::string out = "{\"k\":";
    appendJsonString(out, "v");
    CPPUNIT_ASSERT_EQUAL(std::string("{\"k\":\"v\""), out);
  }

  void testInvalidUtf8IsReplaced() {
    // The text stays valid JSON a strict client can decode: stray bytes become U+FFFD.
    CPPUNIT_ASSERT_EQUAL(std::string("\"/\xef\xbf\xbd/\""), jsonString("/\xff/"));
    CPPUNIT_ASSERT_EQUAL(std::string("\"a\xef\xbf\xbd\\u0000\""),
                         jsonString(std::string_view("a\xc3\0", 3)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(JsonTextTest);
