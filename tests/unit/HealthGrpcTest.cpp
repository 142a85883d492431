#include <cppunit/extensions/HelperMacros.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "health/GrpcHealthCodec.h"
#include "health/GrpcProbeSession.h"

using portico::GrpcAnswer;
using portico::GrpcHealthCodec;
using portico::GrpcProbeSession;
using portico::HealthSpec;
using portico::ProbeResult;
using namespace std::chrono_literals;

namespace {

/// One gRPC message holding a HealthCheckResponse with `status` (none: the field left out).
std::string response(int status) {
  std::string message;
  if (status != 0) message = std::string("\x08", 1) + static_cast<char>(status);
  return std::string("\0\0\0\0", 4) + static_cast<char>(message.size()) + message;
}

GrpcAnswer answer(int status, int grpcStatus = 0, const std::string& message = "") {
  GrpcAnswer a;
  a.httpStatus = 200;
  a.contentType = "application/grpc";
  a.grpcStatus = grpcStatus;
  a.grpcMessage = message;
  a.body = grpcStatus == 0 ? response(status) : "";
  a.ended = true;
  return a;
}

std::string verdictOf(const GrpcAnswer& a) {
  const ProbeResult r = GrpcHealthCodec::verdict(a);
  return r.ok ? "ok" : r.error;
}

/// A gRPC health server as an nghttp2 server session over bytes: answers every call's
/// request with `status`, or with grpc-status `grpcStatus` and `message` (trailers-only).
class FakeHealthServer {
 public:
  FakeHealthServer(int status, int grpcStatus = 0, std::string message = "")
      : status_(status), grpcStatus_(grpcStatus), message_(std::move(message)) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, onData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, onFrame);
    nghttp2_session_server_new(&session_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~FakeHealthServer() { nghttp2_session_del(session_); }

  bool input(const std::string& bytes) {
    return nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                    bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  std::string output() {
    std::string out;
    const std::uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_, &data)) > 0;)
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    return out;
  }
  std::map<std::string, std::string> headers;
  std::string body;

 private:
  static int onHeader(nghttp2_session*, const nghttp2_frame*, const std::uint8_t* name,
                      std::size_t nl, const std::uint8_t* value, std::size_t vl, std::uint8_t,
                      void* user) {
    static_cast<FakeHealthServer*>(user)
        ->headers[std::string(reinterpret_cast<const char*>(name), nl)] =
        std::string(reinterpret_cast<const char*>(value), vl);
    return 0;
  }
  static int onData(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t* data,
                    std::size_t size, void* user) {
    static_cast<FakeHealthServer*>(user)->body.append(reinterpret_cast<const char*>(data), size);
    return 0;
  }
  static int onFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<FakeHealthServer*>(user);
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0 || frame->hd.stream_id == 0) return 0;
    self.answer(session, frame->hd.stream_id);
    return 0;
  }
  static ssize_t read(nghttp2_session* session, std::int32_t id, std::uint8_t* buffer,
                      std::size_t length, std::uint32_t* flags, nghttp2_data_source*, void* user) {
    auto& self = *static_cast<FakeHealthServer*>(user);
    const std::size_t n = std::min(length, self.reply_.size());
    std::copy_n(self.reply_.data(), n, buffer);
    self.reply_.erase(0, n);
    if (self.reply_.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const std::string code = "0";
      nghttp2_nv trailer{reinterpret_cast<std::uint8_t*>(const_cast<char*>("grpc-status")),
                         reinterpret_cast<std::uint8_t*>(const_cast<char*>(code.c_str())), 11, 1,
                         NGHTTP2_NV_FLAG_NONE};
      nghttp2_submit_trailer(session, id, &trailer, 1);
    }
    return static_cast<ssize_t>(n);
  }
  void answer(nghttp2_session* session, std::int32_t id) {
    std::vector<std::pair<std::string, std::string>> fields{{":status", "200"},
                                                            {"content-type", "application/grpc"}};
    if (grpcStatus_ != 0) {
      fields.emplace_back("grpc-status", std::to_string(grpcStatus_));
      fields.emplace_back("grpc-message", message_);
    }
    std::vector<nghttp2_nv> nv;
    for (auto& [n, v] : fields)
      nv.push_back({reinterpret_cast<std::uint8_t*>(n.data()),
                    reinterpret_cast<std::uint8_t*>(v.data()), n.size(), v.size(),
                    NGHTTP2_NV_FLAG_NONE});
    if (grpcStatus_ != 0) {
      nghttp2_submit_response(session, id, nv.data(), nv.size(), nullptr);  // trailers-only
      return;
    }
    reply_ = response(status_);
    nghttp2_data_provider provider{};
    provider.read_callback = read;
    nghttp2_submit_response(session, id, nv.data(), nv.size(), &provider);
  }

  nghttp2_session* session_{nullptr};
  int status_;
  int grpcStatus_;
  std::string message_;
  std::string reply_;
};

/// Runs one probe session against `server` in memory until it has a verdict.
std::string call(FakeHealthServer& server, const std::string& service) {
  HealthSpec spec;
  spec.type = portico::ProbeType::Grpc;
  spec.grpcService = service;
  spec.timeout = 2s;
  GrpcProbeSession session("127.0.0.1:50051", false, spec);
  for (int round = 0; round < 10 && !session.result(); ++round) {
    std::string out;
    CPPUNIT_ASSERT(session.output(out));
    CPPUNIT_ASSERT(server.input(out));
    const std::string back = server.output();
    if (!back.empty()) session.input(back.data(), back.size());
  }
  const auto result = session.result();
  CPPUNIT_ASSERT(result.has_value());
  return result->ok ? "ok" : result->error;
}

}  // namespace

/// The grpc health check's logic without sockets: protobuf and gRPC framing by hand, the
/// verdict's wording, and a whole call through nghttp2 against an in-memory server session.
class HealthGrpcTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthGrpcTest);
  CPPUNIT_TEST(testRequestEncoding);
  CPPUNIT_TEST(testResponseDecoding);
  CPPUNIT_TEST(testVerdicts);
  CPPUNIT_TEST(testTimeoutHeader);
  CPPUNIT_TEST(testCallThroughNghttp2);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRequestEncoding() {
    // The empty service: an empty HealthCheckRequest, a zero-length message.
    CPPUNIT_ASSERT_EQUAL(std::string("\0\0\0\0\0", 5), GrpcHealthCodec::request(""));
    CPPUNIT_ASSERT_EQUAL(std::string("\0\0\0\0\x05\x0a\x03"
                                     "abc",
                                     10),
                         GrpcHealthCodec::request("abc"));
    // A length over 127 takes a two-byte varint: 200 = 0xc8 0x01.
    const std::string longName(200, 'a');
    const std::string framed = GrpcHealthCodec::request(longName);
    CPPUNIT_ASSERT_EQUAL(std::size_t(5 + 3 + 200), framed.size());
    CPPUNIT_ASSERT_EQUAL(std::string("\0\0\0\0\xcb\x0a\xc8\x01", 8), framed.substr(0, 8));
  }

  void testResponseDecoding() {
    struct Case {
      std::string body;
      std::optional<std::int64_t> status;
    };
    const std::vector<Case> cases{
        {response(1), 1},
        {response(2), 2},
        {response(3), 3},
        {response(0), 0},  // proto3 leaves the default out: UNKNOWN
        // An unknown field (2, varint 7) before the status is skipped.
        {std::string("\0\0\0\0\x04\x10\x07\x08\x01", 9), 1},
        // An unknown length-delimited field (3, "xy") is skipped.
        {std::string("\0\0\0\0\x06\x1a\x02xy\x08\x02", 11), 2},
        {std::string("\x01\0\0\0\x02\x08\x01", 7), std::nullopt},  // compressed
        {std::string("\0\0\0\0\x03\x08\x01", 7), std::nullopt},    // length says more
        {std::string("\0\0\0\0\x01\x08", 6), std::nullopt},        // varint cut short
        {std::string("\0\0\0", 3), std::nullopt},                  // no frame head
        {std::string("\0\0\0\0\x02\x0f\x01", 7), std::nullopt},    // wire type 7
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto got = GrpcHealthCodec::servingStatus(cases[i].body);
      CPPUNIT_ASSERT_MESSAGE(std::to_string(i), got == cases[i].status);
    }
  }

  void testVerdicts() {
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), verdictOf(answer(1)));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc status NOT_SERVING"), verdictOf(answer(2)));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc status SERVICE_UNKNOWN"), verdictOf(answer(3)));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc status UNKNOWN"), verdictOf(answer(0)));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc status 9"), verdictOf(answer(9)));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc-status 12: unknown service"),
                         verdictOf(answer(0, 12, "unknown%20service")));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc-status 5: not found 100%"),
                         verdictOf(answer(0, 5, "not found 100%")));
    CPPUNIT_ASSERT_EQUAL(std::string("grpc-status 14"), verdictOf(answer(0, 14)));
    GrpcAnswer a = answer(1);
    a.httpStatus = 404;
    CPPUNIT_ASSERT_EQUAL(std::string("grpc: http status 404"), verdictOf(a));
    a = answer(1);
    a.contentType = "text/html";
    CPPUNIT_ASSERT_EQUAL(std::string("grpc: content-type 'text/html' is not gRPC"), verdictOf(a));
    a = answer(1);
    a.grpcStatus.reset();
    CPPUNIT_ASSERT_EQUAL(std::string("grpc: no grpc-status in the answer"), verdictOf(a));
    a = answer(1);
    a.body = "junk";
    CPPUNIT_ASSERT_EQUAL(std::string("grpc: invalid HealthCheckResponse"), verdictOf(a));
    a = GrpcAnswer{};
    a.ended = true;
    a.reset = 7;
    CPPUNIT_ASSERT_EQUAL(std::string("grpc: stream reset (error 7)"), verdictOf(a));
  }

  void testTimeoutHeader() {
    CPPUNIT_ASSERT_EQUAL(std::string("3000m"), GrpcHealthCodec::timeoutHeader(3s));
    CPPUNIT_ASSERT_EQUAL(std::string("1m"), GrpcHealthCodec::timeoutHeader(0ms));
    CPPUNIT_ASSERT_EQUAL(std::string("99999999m"), GrpcHealthCodec::timeoutHeader(1000000s));
  }

  void testCallThroughNghttp2() {
    FakeHealthServer serving(1);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), call(serving, "portico.Svc"));
    CPPUNIT_ASSERT_EQUAL(std::string("POST"), serving.headers[":method"]);
    CPPUNIT_ASSERT_EQUAL(std::string("/grpc.health.v1.Health/Check"), serving.headers[":path"]);
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:50051"), serving.headers[":authority"]);
    CPPUNIT_ASSERT_EQUAL(std::string("application/grpc"), serving.headers["content-type"]);
    CPPUNIT_ASSERT_EQUAL(std::string("trailers"), serving.headers["te"]);
    CPPUNIT_ASSERT_EQUAL(std::string("2000m"), serving.headers["grpc-timeout"]);
    CPPUNIT_ASSERT_EQUAL(GrpcHealthCodec::request("portico.Svc"), serving.body);

    FakeHealthServer notServing(2);
    CPPUNIT_ASSERT_EQUAL(std::string("grpc status NOT_SERVING"), call(notServing, ""));
    FakeHealthServer unknown(0, 5, "unknown service");
    CPPUNIT_ASSERT_EQUAL(std::string("grpc-status 5: unknown service"), call(unknown, "nope"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthGrpcTest);
