#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "base/Errors.h"
#include "observe/AccessLog.h"

using portico::AccessLog;
using portico::AccessLogFormat;
using portico::AccessRecord;

namespace {

// 2026-12-01T18:29:58.123456Z
constexpr std::int64_t kWhen = 1796149798123456LL;

AccessRecord sample() {
  AccessRecord r;
  r.client = "10.0.0.7";
  r.method = "GET";
  r.target = "/api/users?id=1";
  r.protocol = "HTTP/1.1";
  r.route = "/api/";
  r.upstream = "http://10.0.0.2:8081";
  r.requestId = "7f3c0e6b2a8d4f1e9c5b3a2d1e0f4c6b";
  r.referer = "https://example.com/";
  r.userAgent = "curl/7.88.1";
  r.status = 200;
  r.bytes = 512;
  r.durationMs = 12.5;
  r.upstreamMs = 11.25;
  return r;
}

std::string line(AccessLogFormat f, const AccessRecord& r) {
  char buffer[AccessLog::kMaxLine];
  return std::string(buffer, AccessLog::format(f, r, kWhen, buffer));
}

}  // namespace

/// Access-log lines in each format, against golden lines, and what hostile input does to them.
class AccessLogTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AccessLogTest);
  CPPUNIT_TEST(testGoldenLines);
  CPPUNIT_TEST(testNoTargetAndNoUpstream);
  CPPUNIT_TEST(testHostileFieldsStayInTheirField);
  CPPUNIT_TEST(testLongFieldsAreCutNotTheLine);
  CPPUNIT_TEST(testFormatNames);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testGoldenLines() {
    const AccessRecord r = sample();
    CPPUNIT_ASSERT_EQUAL(std::string("2026-12-01T18:29:58.123Z 10.0.0.7 GET /api/users?id=1 /api/ "
                                     "http://10.0.0.2:8081 200 512 12.5ms "
                                     "7f3c0e6b2a8d4f1e9c5b3a2d1e0f4c6b\n"),
                         line(AccessLogFormat::Portico, r));
    CPPUNIT_ASSERT_EQUAL(
        std::string("10.0.0.7 - - [01/Dec/2026:18:29:58 +0000] \"GET /api/users?id=1 HTTP/1.1\" "
                    "200 512 \"https://example.com/\" \"curl/7.88.1\"\n"),
        line(AccessLogFormat::Combined, r));
    CPPUNIT_ASSERT_EQUAL(
        std::string("{\"time\":\"2026-12-01T18:29:58.123Z\",\"client\":\"10.0.0.7\",\"method\":"
                    "\"GET\",\"path\":\"/api/users?id=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
                    "\"bytes_sent\":512,\"request_time\":0.012500,\"upstream_time\":0.011250,"
                    "\"route\":\"/api/\",\"target\":\"http://10.0.0.2:8081\",\"request_id\":"
                    "\"7f3c0e6b2a8d4f1e9c5b3a2d1e0f4c6b\",\"referer\":\"https://example.com/\","
                    "\"user_agent\":\"curl/7.88.1\"}\n"),
        line(AccessLogFormat::Json, r));
  }

  void testNoTargetAndNoUpstream() {
    AccessRecord r = sample();
    r.route = "-";
    r.upstream = "-";
    r.upstreamMs = -1;
    r.referer = "";
    r.userAgent = "";
    r.status = 404;
    const auto o = Poco::JSON::Parser()
                       .parse(line(AccessLogFormat::Json, r))
                       .extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT(o->isNull("route"));
    CPPUNIT_ASSERT(o->isNull("target"));
    CPPUNIT_ASSERT(o->isNull("upstream_time"));
    CPPUNIT_ASSERT_EQUAL(404, o->getValue<int>("status"));
    const std::string combined = line(AccessLogFormat::Combined, r);
    CPPUNIT_ASSERT_MESSAGE(combined, combined.find("404 512 \"-\" \"-\"\n") != std::string::npos);
    const std::string portico = line(AccessLogFormat::Portico, r);
    CPPUNIT_ASSERT_MESSAGE(portico,
                           portico.find(" GET /api/users?id=1 - - 404 ") != std::string::npos);
  }

  void testHostileFieldsStayInTheirField() {
    AccessRecord r = sample();
    r.target = "/a b\"c\\d\n\x01";
    r.userAgent = "evil\" \"agent\r\n";
    for (auto f : {AccessLogFormat::Portico, AccessLogFormat::Combined, AccessLogFormat::Json}) {
      const std::string l = line(f, r);
      // One line, ending in its only newline.
      CPPUNIT_ASSERT_EQUAL_MESSAGE(l, l.size() - 1, l.find('\n'));
    }
    const std::string portico = line(AccessLogFormat::Portico, r);
    CPPUNIT_ASSERT_MESSAGE(portico, portico.find(" /a?b?c\\d?? /api/ ") != std::string::npos);
    const std::string combined = line(AccessLogFormat::Combined, r);
    CPPUNIT_ASSERT_MESSAGE(combined, combined.find("\"GET /a b\\x22c\\x5Cd\\x0A\\x01 HTTP/1.1\"") !=
                                         std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(
        combined, combined.find("\"evil\\x22 \\x22agent\\x0D\\x0A\"\n") != std::string::npos);
    const auto o = Poco::JSON::Parser()
                       .parse(line(AccessLogFormat::Json, r))
                       .extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT_EQUAL(std::string(r.target), o->getValue<std::string>("path"));
    CPPUNIT_ASSERT_EQUAL(std::string(r.userAgent), o->getValue<std::string>("user_agent"));
  }

  void testLongFieldsAreCutNotTheLine() {
    AccessRecord r = sample();
    const std::string huge(100000, '"');  // worst case for JSON: every byte doubles
    r.target = huge;
    r.userAgent = huge;
    r.referer = huge;
    for (auto f : {AccessLogFormat::Portico, AccessLogFormat::Combined, AccessLogFormat::Json}) {
      const std::string l = line(f, r);
      CPPUNIT_ASSERT(l.size() <= AccessLog::kMaxLine);
      CPPUNIT_ASSERT_EQUAL(l.size() - 1, l.find('\n'));
      CPPUNIT_ASSERT_MESSAGE(l.substr(l.size() - 80), l.find("200") != std::string::npos);
    }
    // The JSON line is still one valid object with every field after the long ones.
    const auto o = Poco::JSON::Parser()
                       .parse(line(AccessLogFormat::Json, r))
                       .extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT_EQUAL(std::string(r.requestId), o->getValue<std::string>("request_id"));
    CPPUNIT_ASSERT(o->has("user_agent"));
  }

  void testFormatNames() {
    CPPUNIT_ASSERT(AccessLog::parseFormat("portico") == AccessLogFormat::Portico);
    CPPUNIT_ASSERT(AccessLog::parseFormat("combined") == AccessLogFormat::Combined);
    CPPUNIT_ASSERT(AccessLog::parseFormat("json") == AccessLogFormat::Json);
    CPPUNIT_ASSERT_THROW(AccessLog::parseFormat("common"), portico::ConfigError);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AccessLogTest);
