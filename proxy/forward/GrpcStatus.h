#pragma once

#include <string>
#include <string_view>

#include "http/HttpHead.h"

namespace portico {

/// gRPC's view of the proxy's own answers (gRPC over HTTP/2, "PROTOCOL-HTTP2"): a gRPC client
/// reads its status from `grpc-status` and `grpc-message`, not from the HTTP status, so an error
/// the proxy produces for a gRPC request is a trailers-only answer (HTTP 200, the status in the
/// one HEADERS frame), as Envoy answers. Pure logic.
struct GrpcStatus {
  // The codes of grpc/status.h the proxy gives.
  static constexpr int kInternal = 13;
  static constexpr int kUnimplemented = 12;
  static constexpr int kUnavailable = 14;
  static constexpr int kDeadlineExceeded = 4;
  static constexpr int kResourceExhausted = 8;

  /// The request is gRPC: its content-type is application/grpc or application/grpc+…/;….
  static bool isGrpc(const http::HttpHead& request);
  /// The gRPC code for the proxy's own answer of HTTP status `httpStatus`: no route (404)
  /// UNIMPLEMENTED; no target, refused or failed connection, target reset (502, 503)
  /// UNAVAILABLE; timeout (504, 408) DEADLINE_EXCEEDED; a limit (429, 413, 431)
  /// RESOURCE_EXHAUSTED; anything else INTERNAL.
  static int codeFor(int httpStatus);
  /// `message` as grpc-message carries it: percent-encoded outside printable ASCII and '%'.
  static std::string encodeMessage(std::string_view message);
};

}  // namespace portico
