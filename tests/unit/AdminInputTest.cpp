// What the admin API lets in: strict JSON bodies, printable error answers, text fields without
// control characters. Each case is a request an attacker sent with raw bytes.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include "admin/AdminApi.h"
#include "admin/StrictJson.h"
#include "base/Errors.h"
#include "base/Utf8.h"
#include "store/sqlite/SqliteStore.h"
#include "support/TestSupport.h"

using portico::AdminApi;
using portico::AdminRequest;
using portico::AdminResponse;
using portico::test::sqlite;
using portico::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The `error` text of an answer that must be `{"error": "..."}` in valid UTF-8.
std::string errorText(const AdminResponse& r) {
  CPPUNIT_ASSERT_MESSAGE(portico::printable(r.body), portico::isValidUtf8(r.body));
  Poco::JSON::Object::Ptr object;
  try {
    object = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    CPPUNIT_FAIL("not a JSON object: " + portico::printable(r.body));
  }
  CPPUNIT_ASSERT_MESSAGE(r.body, object->has("error") && object->get("error").isString());
  return object->getValue<std::string>("error");
}

}  // namespace

class AdminInputTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AdminInputTest);
  CPPUNIT_TEST(testBytesAfterTheValueAreRefused);
  CPPUNIT_TEST(testDuplicateKeys);
  CPPUNIT_TEST(testErrorAnswersAreValidUtf8);
  CPPUNIT_TEST(testNulDoesNotEndAMessage);
  CPPUNIT_TEST(testControlCharactersRefused);
  CPPUNIT_TEST(testTargetUrlsStoredAscii);
  CPPUNIT_TEST(testStrictJsonDirectly);
  CPPUNIT_TEST(testTargetObjectsAndPatchBodies);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<portico::SqliteStore>(dir_->file("p.db"));
    api_ = std::make_unique<AdminApi>(*store_, "/endpoints", portico::HealthSpec{}, [] {});
  }
  void tearDown() override {
    api_.reset();
    store_.reset();
    dir_.reset();
  }

  void testTargetObjectsAndPatchBodies() {
    // The traffic fields follow the same rules: strict JSON, exact types, no unknown field,
    // printable errors, and a refusal changes nothing.
    CPPUNIT_ASSERT_EQUAL(201, call("POST", "/endpoints/routes",
                                   R"({"prefixPath":"/a/","targets":[{"target":"http://h1"}]})")
                                  .status);
    const std::string before = snapshot();
    const std::vector<std::pair<std::string, std::string>> one{{"prefixPath", "/a/"},
                                                               {"target", "http://h1"}};
    const struct {
      const char* method;
      const char* path;
      std::string body;
      const char* says;
    } refused[] = {
        {"PATCH", "/endpoints", R"({"weight":5,"weight":6})", "key 'weight' appears twice"},
        {"PATCH", "/endpoints", std::string(R"({"weight":5})") + "\xff", "not valid UTF-8"},
        {"PATCH", "/endpoints", R"({"weight":50.0})", "must be an integer from 0 to 1000"},
        {"PATCH", "/endpoints", R"({"weight":"50"})", "must be an integer from 0 to 1000"},
        {"PATCH", "/endpoints", R"({"weight":true})", "must be an integer from 0 to 1000"},
        {"PATCH", "/endpoints", R"({"weight":-1})", "must be an integer from 0 to 1000"},
        {"PATCH", "/endpoints", R"({"state":"dr\u0000ining"})", "'dr\\x00ining'"},
        {"PATCH", "/endpoints", R"({"state":"draining","drain":true})", "unknown field 'drain'"},
        {"PATCH", "/endpoints", R"({})", "nothing to change"},
        {"POST", "/endpoints/add",
         R"({"prefixPath":"/a/","targets":[{"target":"http://h2","weight":1,"weight":2}]})",
         "key 'weight' appears twice"},
        {"POST", "/endpoints/add",
         R"({"prefixPath":"/a/","targets":[{"target":"http://h2\u0007"}]})", "'http://h2\\x07'"},
        {"POST", "/endpoints/add",
         R"({"prefixPath":"/a/","targets":[{"target":"http://h2/é"}],"x":1})", "unknown field 'x'"},
        {"POST", "/endpoints/add",
         R"({"prefixPath":"/a/","targets":[{"target":"http://h2","weight":1001}]})",
         "targets[0].weight"},
        {"POST", "/endpoints/add",
         R"({"prefixPath":"/a/","targets":[{"target":"http://h2","priority":1}]})",
         "unknown field 'targets[0].priority'"},
        {"POST", "/endpoints/add", R"({"prefixPath":"/a/","targets":[{"weight":1}]})",
         "missing field 'targets[0].target'"},
    };
    for (const auto& row : refused) {
      const auto r = call(row.method, row.path, row.body,
                          std::string(row.method) == "PATCH" ? one : decltype(one){});
      CPPUNIT_ASSERT_EQUAL_MESSAGE(portico::printable(row.body) + " -> " + r.body, 400, r.status);
      CPPUNIT_ASSERT_MESSAGE(portico::printable(row.body) + " -> " + r.body,
                             contains(errorText(r), row.says));
    }
    // Query values of the history are quoted printable and cut.
    auto r = call("GET", "/endpoints/changes", "", {{"since", std::string(100, '9') + "\x01"}});
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    const std::string message = errorText(r);
    CPPUNIT_ASSERT_MESSAGE(message, contains(message, "\xe2\x80\xa6") && message.size() < 150);
    r = call("GET", "/endpoints/changes", "", {{"\x1b[31m", "1"}});
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "unknown query parameter '\\x1B[31m'"));
    CPPUNIT_ASSERT_EQUAL(before, snapshot());
  }

  AdminResponse call(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     std::vector<std::pair<std::string, std::string>> query = {}) {
    return api_->handle(AdminRequest{method, path, std::move(query), body, "127.0.0.1", {}});
  }

  std::string snapshot() {
    return sqlite(dir_->file("p.db"), "SELECT prefix, health_path FROM routes ORDER BY id") + "|" +
           sqlite(dir_->file("p.db"), "SELECT url FROM targets ORDER BY id") + "|" +
           sqlite(dir_->file("p.db"), "SELECT value FROM revision");
  }

  void testBytesAfterTheValueAreRefused() {
    // POCO's parser takes a 0xFF byte for the end of input: these were applied before.
    const std::string tail = "\xff{{{ not json";
    auto r = call("POST", "/endpoints/routes", R"({"prefixPath":"/x/"})" + tail);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(portico::printable(r.body), 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body,
                           contains(errorText(r), "not valid UTF-8 (byte 0xff at offset 20)"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(dir_->file("p.db"), "SELECT prefix FROM routes"));

    CPPUNIT_ASSERT_EQUAL(201, call("POST", "/endpoints/routes",
                                   R"({"prefixPath":"/a/","targets":["http://h1"]})"
                                   "\n\t ")
                                  .status);  // whitespace after the value is fine
    const std::string before = snapshot();
    for (const char* path : {"/endpoints/add", "/endpoints/remove"}) {
      for (const std::string& body :
           {R"({"prefixPath":"/a/","targets":["http://h2","http://h1"]})" + tail,
            std::string(R"({"prefixPath":"/a/","targets":["http://h2","http://h1"]} {})"),
            std::string(R"({"prefixPath":"/a/","targets":["http://h2","http://h1"]}x)"),
            R"({"prefixPath":"/a/","targets":["http://h2","http://h1"]})" + std::string(1, '\0')}) {
        r = call("POST", path, body);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(portico::printable(body) + " -> " + r.body, 400, r.status);
        errorText(r);
      }
    }
    CPPUNIT_ASSERT_EQUAL(before, snapshot());
  }

  void testDuplicateKeys() {
    auto r = call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","prefixPath":"/b/"})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "key 'prefixPath' appears twice"));
    r = call("POST", "/endpoints/routes",
             R"({"prefixPath":"/a/","healthCheck":{"fall":1,"rise":2,"fall":3}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "key 'fall' appears twice"));
    // The same key in two different objects is not a duplicate.
    r = call("POST", "/endpoints/routes",
             R"({"prefixPath":"/a/","healthCheck":{"path":"/p"},"balancer":"ip_hash","x":null})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);  // only for the unknown field x
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "unknown field 'x'"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(dir_->file("p.db"), "SELECT prefix FROM routes"));
  }

  void testErrorAnswersAreValidUtf8() {
    // The parser's own message quoted the 0xFF it mistook for the end of input.
    auto r = call("POST", "/endpoints/add", "[0");
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "malformed JSON"));
    // 63 'a' then 'é': quoted whole, never cut inside the 'é'.
    const std::string longPrefix = "/" + std::string(62, 'a') + "\xc3\xa9?";
    r = call("POST", "/endpoints/routes", R"({"prefixPath":")" + longPrefix + R"("})");
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body,
                           contains(errorText(r), std::string(62, 'a') + "\xc3\xa9\xe2\x80\xa6"));
    // Query values arrive percent-decoded: ?prefixPath=%FF is the byte 0xFF.
    r = call("GET", "/endpoints/list", "", {{"prefixPath", "\xff"}});
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "prefixPath '\\xFF' is not valid UTF-8"));
    for (const auto& [method, path, query] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"GET", "/endpoints/\xff\xfe", ""},
             {"P\xc3OST", "/endpoints/add", ""},
             {"GET", "/endpoints/routes", "\xc0\xaf\x01"},
             {"GET", "/endpoints", "\xe2\x80\xae"}}) {
      std::vector<std::pair<std::string, std::string>> q;
      if (!query.empty()) q.emplace_back(query, "v");
      r = call(method, path, "", q);
      CPPUNIT_ASSERT_MESSAGE(r.body, r.status >= 400);
      const std::string error = errorText(r);
      CPPUNIT_ASSERT_MESSAGE(error, portico::isValidTextWithoutControls(error));
    }
    r = call("POST", "/endpoints/routes", "{\"prefixPath\":\"/a/\",\"\\u0001\xc2\x85\":1}");
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "unknown field '\\x01\\u0085'"));
  }

  void testNulDoesNotEndAMessage() {
    auto r = call("POST", "/endpoints/routes", R"({"prefixPath":"/a\u0000b/after"})");
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "prefixPath '/a\\x00b/after'"));
    r = call("POST", "/endpoints/routes", R"({"prefixPath":"/a/","balancer":"x\u0000tail"})");
    CPPUNIT_ASSERT_EQUAL(400, r.status);
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(errorText(r), "unknown balancer 'x\\x00tail'"));
  }

  void testControlCharactersRefused() {
    for (const char* field : {R"("prefixPath":"/a\u0085/")", R"("prefixPath":"/a\u007f/")",
                              R"("prefixPath":"/a/","healthCheck":{"path":"/h\u0000"})",
                              R"("prefixPath":"/a/","healthCheck":{"path":"/h\u0001x"})",
                              R"("prefixPath":"/a/","healthCheck":{"path":"/h\u007f"})",
                              R"("prefixPath":"/a/","healthCheck":{"path":"/caf\u00e9"})",
                              R"("prefixPath":"/a/","healthCheck":{"path":"/h%zz"})",
                              R"("prefixPath":"/a/","healthCheck":{"path":"/h#f"})",
                              R"("prefixPath":"/a/","targets":["http://h/\u0000"])",
                              R"("prefixPath":"/a/","targets":["http://h/a\u0085"])",
                              R"("prefixPath":"/a/","targets":["http://h\u00e9.example"])",
                              R"("prefixPath":"/a/","targets":["http://h/\ud800"])"}) {
      const auto r = call("POST", "/endpoints/routes", std::string("{") + field + "}");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(field) + " -> " + r.body, 400, r.status);
      errorText(r);
    }
    CPPUNIT_ASSERT_EQUAL(std::string(""), sqlite(dir_->file("p.db"), "SELECT prefix FROM routes"));
    // Printable ASCII paths with a query and escapes are fine.
    const auto r =
        call("POST", "/endpoints/routes",
             R"({"prefixPath":"/a/","healthCheck":{"type":"http","path":"/h%20x?a=1&b"}})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
  }

  void testTargetUrlsStoredAscii() {
    auto r = call("POST", "/endpoints/routes",
                  R"({"prefixPath":"/a/","targets":["http://h/caf\u00e9/x y"]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 400, r.status);  // a space is refused, not encoded
    r = call("POST", "/endpoints/routes",
             R"({"prefixPath":"/a/","targets":["http://h/caf\u00e9"]})");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 201, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("http://h/caf%C3%A9"),
                         sqlite(dir_->file("p.db"), "SELECT url FROM targets"));
    // Either spelling names the same target.
    r = call("GET", "/endpoints", "", {{"prefixPath", "/a/"}, {"target", "http://h/caf\xc3\xa9"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    r = call("POST", "/endpoints/remove",
             R"({"prefixPath":"/a/","targets":["http://h/caf%C3%A9"]})");
    CPPUNIT_ASSERT_MESSAGE(r.body, contains(r.body, R"("removedCount":1)"));
  }

  void testStrictJsonDirectly() {
    using portico::parseStrictJson;
    CPPUNIT_ASSERT(parseStrictJson(R"( {"a":[1,{"a":2}],"b":{"a":3}} )", 8)
                       .extract<Poco::JSON::Object::Ptr>()
                       ->has("b"));
    for (const std::string& bad :
         {std::string("{\"a\":1}\xfe"), std::string("{\"a\":\"\xed\xa0\x80\"}"),
          std::string("\xef\xbb\xbf{}"), std::string("{} []"), std::string("[1,[2,[3]]]"),
          std::string("{\"a\":[{\"b\":1,\"b\":1}]}"), std::string("{\"a\":1e999}"),
          std::string("")})
      CPPUNIT_ASSERT_THROW_MESSAGE(portico::printable(bad), parseStrictJson(bad, 2),
                                   portico::InvalidInput);
  }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<portico::Store> store_;
  std::unique_ptr<AdminApi> api_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminInputTest);
