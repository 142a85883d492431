#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <string>

#include "forward/GrpcTimeout.h"
#include "net/TimerList.h"

using portico::GrpcTimeout;

/// grpc-timeout as gRPC's PROTOCOL-HTTP2 spells it (issue #21): at most 8 digits, one unit.
class GrpcTimeoutTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(GrpcTimeoutTest);
  CPPUNIT_TEST(testUnits);
  CPPUNIT_TEST(testMalformed);
  CPPUNIT_TEST(testFromRequest);
  CPPUNIT_TEST(testDeadlinesOfDifferentLengthsExpireInOrder);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testUnits() {
    const struct {
      const char* text;
      long long ms;
    } rows[] = {
        {"100m", 100},
        {"5S", 5000},
        {"1H", 3600 * 1000},
        {"2M", 120 * 1000},
        {"1500u", 2},  // rounded up: never shorter than asked
        {"1u", 1},     // a deadline that small is still one
        {"1000000n", 1},
        {"1000001n", 2},
        {"0m", 0},                                // already past: answered at once
        {"00000250m", 250},                       // eight digits, leading zeros
        {"99999999H", 99999999LL * 3600 * 1000},  // the largest value does not overflow
    };
    for (const auto& row : rows) {
      const auto got = GrpcTimeout::parse(row.text);
      CPPUNIT_ASSERT_MESSAGE(row.text, got.has_value());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(row.text, row.ms, static_cast<long long>(got->count()));
    }
  }

  void testMalformed() {
    for (const char* text :
         {"", "m", "100", "123456789m",  // nine digits
          "10s", "10h", "10x", "-5S", "+5S", "5 S", " 5S", "5SS", "1.5S", "0x10m"}) {
      CPPUNIT_ASSERT_MESSAGE(text, !GrpcTimeout::parse(text).has_value());
    }
  }

  void testFromRequest() {
    portico::http::HttpHead request;
    CPPUNIT_ASSERT(!GrpcTimeout::of(request).has_value());
    request.addOwned("grpc-timeout", "250m");
    CPPUNIT_ASSERT_EQUAL(250LL, static_cast<long long>(GrpcTimeout::of(request)->count()));
    portico::http::HttpHead upper;
    upper.addOwned("Grpc-Timeout", "3S");  // field names are case-insensitive
    CPPUNIT_ASSERT_EQUAL(3000LL, static_cast<long long>(GrpcTimeout::of(upper)->count()));
  }

  void testDeadlinesOfDifferentLengthsExpireInOrder() {
    // The loop's list of request deadlines (TimerList::armAt): each request brings its own.
    struct Seen : portico::net::TimerHandler {
      std::string order;
      void onTimeout(int tag) override { order += static_cast<char>('0' + tag); }
    } seen;
    portico::net::TimerList deadlines(0);
    portico::net::Timer a(seen, 1), b(seen, 2), c(seen, 3), d(seen, 4);
    deadlines.armAt(a, 500);
    deadlines.armAt(b, 100);
    deadlines.armAt(c, 300);
    deadlines.armAt(d, 300);  // equal deadlines keep their arming order
    CPPUNIT_ASSERT_EQUAL(std::int64_t{100}, deadlines.next());
    deadlines.armAt(a, 50);  // re-armed: moves
    deadlines.expire(299);
    CPPUNIT_ASSERT_EQUAL(std::string("12"), seen.order);
    c.cancel();
    deadlines.expire(1000);
    CPPUNIT_ASSERT_EQUAL(std::string("124"), seen.order);
    CPPUNIT_ASSERT(deadlines.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GrpcTimeoutTest);
