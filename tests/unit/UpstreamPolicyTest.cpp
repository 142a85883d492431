#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "base/Errors.h"
#include "model/ModelJson.h"
#include "model/RoutePolicies.h"

using portico::RoutePolicies;
using portico::UpstreamPolicy;
using Protocol = portico::UpstreamPolicy::Protocol;

namespace {

Poco::JSON::Object::Ptr body(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

/// Route field `upstreamProtocol` (issue #21): read, written, stored, and which targets it means
/// HTTP/2 for.
class UpstreamPolicyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(UpstreamPolicyTest);
  CPPUNIT_TEST(testReadTable);
  CPPUNIT_TEST(testRefused);
  CPPUNIT_TEST(testWrittenAndStored);
  CPPUNIT_TEST(testHttp2For);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testReadTable() {
    const struct {
      const char* json;
      Protocol expected;
    } rows[] = {
        {R"({})", Protocol::Http11},  // absent: as before
        {R"({"upstreamProtocol":null})", Protocol::Http11},
        {R"({"upstreamProtocol":"http/1.1"})", Protocol::Http11},
        {R"({"upstreamProtocol":"h2"})", Protocol::H2},
        {R"({"upstreamProtocol":"auto"})", Protocol::Auto},
    };
    for (const auto& r : rows) {
      RoutePolicies p;
      portico::readRoutePolicies(*body(r.json), p);
      CPPUNIT_ASSERT_MESSAGE(r.json, p.upstream.protocol == r.expected);
    }
    // A PATCH applies over the current value; absent keeps it.
    RoutePolicies p;
    p.upstream.protocol = Protocol::H2;
    portico::readRoutePolicies(*body(R"({"balancer":"x"})"), p);
    CPPUNIT_ASSERT(p.upstream.protocol == Protocol::H2);
  }

  void testRefused() {
    for (const char* json : {R"({"upstreamProtocol":"h2c"})", R"({"upstreamProtocol":"HTTP/2"})",
                             R"({"upstreamProtocol":2})", R"({"upstreamProtocol":""})"}) {
      RoutePolicies p;
      try {
        portico::readRoutePolicies(*body(json), p);
        CPPUNIT_FAIL(std::string("accepted ") + json);
      } catch (const portico::InvalidInput& e) {
        CPPUNIT_ASSERT_MESSAGE(e.what(),
                               std::string(e.what()).find("invalid field 'upstreamProtocol'") == 0);
      }
    }
  }

  void testWrittenAndStored() {
    RoutePolicies p;
    // Every route answer and stored row shows the field, the default included (other policies'
    // fields beside it).
    auto contains = [](const std::string& text, const std::string& part) {
      return text.find(part) != std::string::npos;
    };
    CPPUNIT_ASSERT(contains(portico::storedPolicies(p), R"("upstreamProtocol":"http/1.1")"));
    p.upstream.protocol = Protocol::Auto;
    const std::string stored = portico::storedPolicies(p);
    CPPUNIT_ASSERT_MESSAGE(stored, contains(stored, R"("upstreamProtocol":"auto")"));
    CPPUNIT_ASSERT(portico::parseStoredPolicies(stored) == p);
    CPPUNIT_ASSERT(portico::parseStoredPolicies("{}") == RoutePolicies{});
    CPPUNIT_ASSERT(!(portico::parseStoredPolicies("{}") == p));
    CPPUNIT_ASSERT(portico::routePolicyFields().count("upstreamProtocol") == 1);
  }

  void testHttp2For() {
    UpstreamPolicy u;
    CPPUNIT_ASSERT(!u.http2For(false) && !u.http2For(true));
    u.protocol = Protocol::H2;
    CPPUNIT_ASSERT(u.http2For(false) && u.http2For(true));
    u.protocol = Protocol::Auto;
    CPPUNIT_ASSERT(!u.http2For(false) && u.http2For(true));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UpstreamPolicyTest);
