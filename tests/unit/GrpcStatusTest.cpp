#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "forward/GrpcStatus.h"

using portico::GrpcStatus;

/// The proxy's own answers to gRPC requests (issue #21): which requests are gRPC, which code
/// each HTTP status becomes, how grpc-message is encoded.
class GrpcStatusTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(GrpcStatusTest);
  CPPUNIT_TEST(testIsGrpc);
  CPPUNIT_TEST(testCodes);
  CPPUNIT_TEST(testMessage);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testIsGrpc() {
    const struct {
      const char* type;  // null: no content-type
      bool grpc;
    } rows[] = {
        {"application/grpc", true},
        {"application/grpc+proto", true},
        {"Application/GRPC", true},
        {"application/grpc;charset=x", true},
        {"application/grpc-web", false},
        {"application/grpc-web+proto", false},
        {"application/json", false},
        {"application/grp", false},
        {nullptr, false},
    };
    for (const auto& r : rows) {
      portico::http::HttpHead head;
      head.setMethod(head.own("POST"));
      head.setTarget(head.own("/s/M"));
      if (r.type) head.addOwned("Content-Type", r.type);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.type ? r.type : "(none)", r.grpc, GrpcStatus::isGrpc(head));
    }
  }

  void testCodes() {
    const int rows[][2] = {{404, 12}, {502, 14}, {503, 14}, {504, 4},  {408, 4},
                           {429, 8},  {413, 8},  {431, 8},  {400, 13}, {500, 13}};
    for (const auto& r : rows)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(r[0]), r[1], GrpcStatus::codeFor(r[0]));
  }

  void testMessage() {
    CPPUNIT_ASSERT_EQUAL(std::string("no route for /x"),
                         GrpcStatus::encodeMessage("no route for /x"));
    CPPUNIT_ASSERT_EQUAL(std::string("100%25 caf%C3%A9%0A"),
                         GrpcStatus::encodeMessage("100% caf\xc3\xa9\n"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GrpcStatusTest);
