#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "health/Probe.h"

namespace portico {

/// What a grpc probe's call brought back: the response head, the trailers and the body bytes
/// (gRPC length-prefixed messages), as the HTTP/2 session collected them.
struct GrpcAnswer {
  int httpStatus{0};
  std::string contentType;
  std::optional<int> grpcStatus;  // from the trailers (or a trailers-only answer)
  std::string grpcMessage;        // percent-encoded, as sent
  std::string body;
  bool ended{false};       // the stream closed
  std::uint32_t reset{0};  // RST_STREAM error code when the target reset the stream
};

/// The grpc health check's wire logic, apart from its I/O: the `grpc.health.v1.Health/Check`
/// request and reading its answer (gRPC over HTTP/2, protobuf encoded by hand: one string field
/// in, one enum field out, not worth a protobuf dependency), and the verdict with the wording
/// operators see in lastError.
class GrpcHealthCodec {
 public:
  static constexpr std::string_view kPath = "/grpc.health.v1.Health/Check";
  /// HealthCheckResponse.ServingStatus.
  enum Serving { Unknown = 0, Serving = 1, NotServing = 2, ServiceUnknown = 3 };

  /// The request body: one gRPC message (flag 0, 4-byte big-endian length) holding a
  /// HealthCheckRequest {string service = 1;}; an empty service is an empty message.
  static std::string request(const std::string& service);
  /// The `status` field of the HealthCheckResponse in `body`'s one gRPC message (0, UNKNOWN,
  /// when the field is absent: proto3 leaves defaults out); nullopt for bytes that are not
  /// one uncompressed message holding valid protobuf.
  static std::optional<std::int64_t> servingStatus(std::string_view body);
  /// The `grpc-timeout` value for `timeout`: milliseconds ("3000m"), at most 8 digits.
  static std::string timeoutHeader(std::chrono::milliseconds timeout);
  /// SERVING with grpc-status 0 is healthy; anything else fails with its reason:
  /// "grpc status NOT_SERVING", "grpc-status 12: unknown service", "grpc: http status 404", ...
  static ProbeResult verdict(const GrpcAnswer& answer);
  /// "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN", "UNKNOWN" or the number.
  static std::string servingName(std::int64_t status);
  /// grpc-message is percent-encoded (gRPC over HTTP/2 spec); %XX decoded, the rest as is.
  static std::string decodeMessage(std::string_view message);
};

}  // namespace portico
