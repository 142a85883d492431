#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "base/Errors.h"
#include "base/Log.h"

using portico::Log;
using portico::LogFormat;
using portico::LogLevel;

/// Operational log lines: time, level and program in both formats, and the level filter.
class LogTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(LogTest);
  CPPUNIT_TEST(testTextLine);
  CPPUNIT_TEST(testJsonLine);
  CPPUNIT_TEST(testTextLineStaysOneLine);
  CPPUNIT_TEST(testLevels);
  CPPUNIT_TEST_SUITE_END();

 public:
  void tearDown() override { Log::configure("portico", LogLevel::Info, LogFormat::Text); }

  void testTextLine() {
    Log::configure("portico-proxy", LogLevel::Info, LogFormat::Text);
    // 2026-12-01T18:29:58.123Z
    CPPUNIT_ASSERT_EQUAL(std::string("2026-12-01T18:29:58.123Z warn portico-proxy: target down\n"),
                         Log::format(LogLevel::Warn, "target down", 1796149798123LL));
  }

  void testTextLineStaysOneLine() {
    // A message quoting a request path cannot forge a second line or carry invalid UTF-8.
    Log::configure("portico-sidecar", LogLevel::Info, LogFormat::Text);
    CPPUNIT_ASSERT_EQUAL(
        std::string("2026-12-01T18:29:58.123Z info portico-sidecar: GET /a\\x0A2026 fake\\xFF\n"),
        Log::format(LogLevel::Info, "GET /a\n2026 fake\xff", 1796149798123LL));
  }

  void testJsonLine() {
    Log::configure("portico-sidecar", LogLevel::Info, LogFormat::Json);
    const std::string line = Log::format(LogLevel::Error, "quote \" and\nnewline", 1796149798005LL);
    CPPUNIT_ASSERT_EQUAL('\n', line.back());
    CPPUNIT_ASSERT_EQUAL(std::string::npos, line.substr(0, line.size() - 1).find('\n'));
    const auto o = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT_EQUAL(std::string("2026-12-01T18:29:58.005Z"), o->getValue<std::string>("time"));
    CPPUNIT_ASSERT_EQUAL(std::string("error"), o->getValue<std::string>("level"));
    CPPUNIT_ASSERT_EQUAL(std::string("portico-sidecar"), o->getValue<std::string>("program"));
    CPPUNIT_ASSERT_EQUAL(std::string("quote \" and\nnewline"), o->getValue<std::string>("message"));
  }

  void testLevels() {
    const struct {
      LogLevel configured;
      bool error, warn, info, debug;
    } table[] = {
        {LogLevel::Error, true, false, false, false},
        {LogLevel::Warn, true, true, false, false},
        {LogLevel::Info, true, true, true, false},
        {LogLevel::Debug, true, true, true, true},
    };
    for (const auto& row : table) {
      Log::configure("p", row.configured, LogFormat::Text);
      CPPUNIT_ASSERT_EQUAL(row.error, Log::enabled(LogLevel::Error));
      CPPUNIT_ASSERT_EQUAL(row.warn, Log::enabled(LogLevel::Warn));
      CPPUNIT_ASSERT_EQUAL(row.info, Log::enabled(LogLevel::Info));
      CPPUNIT_ASSERT_EQUAL(row.debug, Log::enabled(LogLevel::Debug));
    }
    CPPUNIT_ASSERT(portico::parseLogLevel("warning") == LogLevel::Warn);
    CPPUNIT_ASSERT_THROW(portico::parseLogLevel("trace"), portico::InvalidInput);
    CPPUNIT_ASSERT_THROW(portico::parseLogFormat("xml"), portico::InvalidInput);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LogTest);
