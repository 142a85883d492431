// W3C trace context through the real proxy to a real target (portico-echo shows the headers it
// got): a valid traceparent and its tracestate forwarded unchanged, one started when absent
// (sampled per proxy.trace_sample), a malformed one replaced with its tracestate dropped, and
// the trace id in the portico and json access-log lines.

#include <cppunit/extensions/HelperMacros.h>

#include <fstream>

#include "e2e/ProxyTestHarness.h"
#include "forward/TraceContext.h"

using namespace portico::test;
using portico::TraceContext;

namespace {

const std::string kClient = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string lastLine(const std::string& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace

class TraceContextE2ETest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TraceContextE2ETest);
  CPPUNIT_TEST(traceparentForwardedStartedOrReplaced);
  CPPUNIT_TEST_SUITE_END();

 public:
  void traceparentForwardedStartedOrReplaced() {
    Stack s;
    const std::string portico = s.dir().file("portico.log"), json = s.dir().file("json.log");
    const int proxy = s.proxyToOneEcho("e1", {"proxy.access_log=" + portico});
    const int sampling = s.proxy(
        {"proxy.access_log=" + json, "proxy.access_log_format=json", "proxy.trace_sample=1"});
    s.awaitStatusChange(sampling, "/proxy/", 404);

    // Forwarded unchanged, with its tracestate; the access log ends with its trace id.
    auto r = http(proxy, "GET", "/proxy/kept", "",
                  {{"traceparent", kClient}, {"tracestate", "vendor=opaque"}});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
    CPPUNIT_ASSERT_EQUAL(kClient, echoedHeader(r.body, "traceparent"));
    CPPUNIT_ASSERT_EQUAL(std::string("vendor=opaque"), echoedHeader(r.body, "tracestate"));
    CPPUNIT_ASSERT(
        waitUntil([&] { return lastLine(portico).find("/proxy/kept") != std::string::npos; },
                  std::chrono::seconds(5)));
    const std::string kept = lastLine(portico);
    CPPUNIT_ASSERT_MESSAGE(kept, kept.size() > 33 && kept.substr(kept.size() - 33) ==
                                                         " 4bf92f3577b34da6a3ce929d0e0e4736");

    // Started when absent: valid, not sampled (proxy.trace_sample 0), and logged.
    r = http(proxy, "GET", "/proxy/started");
    const std::string started = echoedHeader(r.body, "traceparent");
    CPPUNIT_ASSERT_MESSAGE(started, TraceContext::valid(started));
    CPPUNIT_ASSERT(started != kClient && started.substr(52) == "-00");
    CPPUNIT_ASSERT(waitUntil(
        [&] { return lastLine(portico).find(started.substr(3, 32)) != std::string::npos; },
        std::chrono::seconds(5)));

    // Malformed: replaced, and its tracestate dropped with it.
    r = http(proxy, "GET", "/proxy/replaced", "",
             {{"traceparent", "00-not-a-trace"}, {"tracestate", "vendor=stale"}});
    const std::string replaced = echoedHeader(r.body, "traceparent");
    CPPUNIT_ASSERT_MESSAGE(replaced, TraceContext::valid(replaced));
    CPPUNIT_ASSERT(!echoHasHeader(r.body, "tracestate"));

    // proxy.trace_sample=1 flags what it starts sampled; the json log has the trace id.
    r = http(sampling, "GET", "/proxy/sampled");
    const std::string sampled = echoedHeader(r.body, "traceparent");
    CPPUNIT_ASSERT_MESSAGE(sampled, TraceContext::valid(sampled) && sampled.substr(52) == "-01");
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return lastLine(json).find("\"trace_id\":\"" + sampled.substr(3, 32) + "\"") !=
                 std::string::npos;
        },
        std::chrono::seconds(5)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TraceContextE2ETest);
