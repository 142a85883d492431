#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/Errors.h"
#include "config/Settings.h"
#include "forward/TraceContext.h"

using portico::RequestIdGenerator;
using portico::TraceContext;

namespace {

const std::string kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

}  // namespace

/// W3C traceparent at the proxy: kept when valid, started when absent, replaced when
/// malformed; the sampled share of started ones; proxy.trace_sample.
class TraceContextTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TraceContextTest);
  CPPUNIT_TEST(testValidOneIsForwardedUnchanged);
  CPPUNIT_TEST(testAbsentOneIsStarted);
  CPPUNIT_TEST(testMalformedOnesAreReplaced);
  CPPUNIT_TEST(testLaterVersionsAreKept);
  CPPUNIT_TEST(testSampledShare);
  CPPUNIT_TEST(testTraceHeaderNames);
  CPPUNIT_TEST(testSampleSetting);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testValidOneIsForwardedUnchanged() {
    RequestIdGenerator ids(1);
    const TraceContext t(kValid, 1.0, ids);
    CPPUNIT_ASSERT(!t.started());
    CPPUNIT_ASSERT_EQUAL(kValid, std::string(t.traceparent()));
    CPPUNIT_ASSERT_EQUAL(std::string("4bf92f3577b34da6a3ce929d0e0e4736"), std::string(t.traceId()));
    CPPUNIT_ASSERT(t.sampled());
    const std::string unsampled = kValid.substr(0, 53) + "00";
    CPPUNIT_ASSERT(!TraceContext(unsampled, 1.0, ids).sampled());  // the client's decision
  }

  void testAbsentOneIsStarted() {
    RequestIdGenerator ids(7);
    std::set<std::string> traces;
    for (int i = 0; i < 1000; ++i) {
      const TraceContext t("", 0.0, ids);
      CPPUNIT_ASSERT(t.started());
      const std::string v(t.traceparent());
      CPPUNIT_ASSERT_MESSAGE(v, TraceContext::valid(v));
      CPPUNIT_ASSERT_EQUAL(std::string("00-"), v.substr(0, 3));
      CPPUNIT_ASSERT_EQUAL(std::string("-00"), v.substr(52));  // proxy.trace_sample 0
      CPPUNIT_ASSERT(traces.insert(std::string(t.traceId())).second);
    }
  }

  void testMalformedOnesAreReplaced() {
    RequestIdGenerator ids(3);
    for (const std::string& bad : std::vector<std::string>{
             "garbage", kValid.substr(0, 54),                            // short
             kValid + "-extra",                                          // version 00 is 55 long
             "ff" + kValid.substr(2),                                    // version ff
             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
             "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // separator
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"}) {
      const TraceContext t(bad, 0.0, ids);
      CPPUNIT_ASSERT_MESSAGE(bad, t.started());
      CPPUNIT_ASSERT_MESSAGE(bad, TraceContext::valid(t.traceparent()));
      CPPUNIT_ASSERT(t.traceparent() != std::string_view(bad));
    }
  }

  void testLaterVersionsAreKept() {
    // §3.2.4: a later version is read by its version-00 fields; more may follow a dash.
    RequestIdGenerator ids(5);
    const std::string v1 = "01" + kValid.substr(2) + "-what-comes-next";
    CPPUNIT_ASSERT(!TraceContext(v1, 0.0, ids).started());
    CPPUNIT_ASSERT(!TraceContext("cc" + kValid.substr(2), 0.0, ids).started());
    CPPUNIT_ASSERT(TraceContext("01" + kValid.substr(2) + "x", 0.0, ids).started());
  }

  void testSampledShare() {
    RequestIdGenerator ids(11);
    int sampled = 0;
    for (int i = 0; i < 10000; ++i) sampled += TraceContext("", 0.25, ids).sampled() ? 1 : 0;
    CPPUNIT_ASSERT_MESSAGE(std::to_string(sampled), sampled > 2300 && sampled < 2700);
    for (int i = 0; i < 100; ++i) CPPUNIT_ASSERT(TraceContext("", 1.0, ids).sampled());
  }

  void testTraceHeaderNames() {
    CPPUNIT_ASSERT(TraceContext::isTraceHeader("traceparent"));
    CPPUNIT_ASSERT(TraceContext::isTraceHeader("TraceState"));
    CPPUNIT_ASSERT(!TraceContext::isTraceHeader("traceparents"));
    CPPUNIT_ASSERT(!TraceContext::isTraceHeader("x-request-id"));
  }

  void testSampleSetting() {
    CPPUNIT_ASSERT_EQUAL(0.0, load({}).proxy.traceSample);
    CPPUNIT_ASSERT_EQUAL(0.05, load({{"proxy.trace_sample", "0.05"}}).proxy.traceSample);
    CPPUNIT_ASSERT_EQUAL(1.0, load({{"proxy.trace_sample", "1"}}).proxy.traceSample);
    for (const char* bad : {"-0.1", "1.5", "half", "0.5x", "nan", ""})
      CPPUNIT_ASSERT_THROW_MESSAGE(bad, load({{"proxy.trace_sample", bad}}), portico::ConfigError);
  }

 private:
  static portico::Settings load(const std::map<std::string, std::string>& kv) {
    auto c = Poco::makeAuto<Poco::Util::MapConfiguration>();
    for (const auto& [k, v] : kv) c->setString(k, v);
    return portico::Settings::load(*c);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TraceContextTest);
