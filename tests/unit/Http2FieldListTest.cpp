#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "loop/Http2FieldList.h"

using portico::Http2FieldList;

namespace {

std::string text(const std::uint8_t* bytes, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(bytes), n);
}

}  // namespace

/// The HEADERS fields a connection builds for each response: lowercased HTTP/1.1 names, values
/// as given, nghttp2's array pointing at them, and nothing left over from the previous response.
class Http2FieldListTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(Http2FieldListTest);
  CPPUNIT_TEST(testFieldsInOrderForNghttp2);
  CPPUNIT_TEST(testHttp1NamesAreLowercased);
  CPPUNIT_TEST(testClearForgetsThePreviousResponse);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFieldsInOrderForNghttp2() {
    Http2FieldList list;
    list.add(":status", "200");
    // Enough fields that the storage moves while they are added: the array comes after.
    for (int i = 0; i < 50; ++i) list.add("x-field-" + std::to_string(i), std::string(40, 'v'));
    const nghttp2_nv* nva = list.nva();
    CPPUNIT_ASSERT_EQUAL(std::size_t(51), list.size());
    CPPUNIT_ASSERT_EQUAL(std::string(":status"), text(nva[0].name, nva[0].namelen));
    CPPUNIT_ASSERT_EQUAL(std::string("200"), text(nva[0].value, nva[0].valuelen));
    CPPUNIT_ASSERT_EQUAL(std::string("x-field-49"), text(nva[50].name, nva[50].namelen));
    CPPUNIT_ASSERT_EQUAL(std::string(40, 'v'), text(nva[50].value, nva[50].valuelen));
    CPPUNIT_ASSERT_EQUAL(std::uint8_t{NGHTTP2_NV_FLAG_NONE}, nva[50].flags);  // nghttp2 copies
  }

  void testHttp1NamesAreLowercased() {
    Http2FieldList list;
    list.addLowercased("Content-Type", "Text/Plain");
    list.addLowercased("X-Backend", "B1");
    // RFC 9113 8.2.1: names in lowercase; values untouched.
    CPPUNIT_ASSERT_EQUAL(std::string("content-type"), std::string(list.name(0)));
    CPPUNIT_ASSERT_EQUAL(std::string("Text/Plain"), std::string(list.value(0)));
    CPPUNIT_ASSERT_EQUAL(std::string("x-backend"), std::string(list.name(1)));
    CPPUNIT_ASSERT_EQUAL(std::string("B1"), std::string(list.value(1)));
  }

  void testClearForgetsThePreviousResponse() {
    Http2FieldList list;
    list.add(":status", "404");
    list.add("content-length", "9");
    list.nva();
    list.clear();
    CPPUNIT_ASSERT(list.empty());
    list.add(":status", "200");
    const nghttp2_nv* nva = list.nva();
    CPPUNIT_ASSERT_EQUAL(std::size_t(1), list.size());
    CPPUNIT_ASSERT_EQUAL(std::string("200"), text(nva[0].value, nva[0].valuelen));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Http2FieldListTest);
