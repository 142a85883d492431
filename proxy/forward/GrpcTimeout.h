#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "http/HttpHead.h"

namespace portico {

/// The `grpc-timeout` request field (gRPC over HTTP/2, "PROTOCOL-HTTP2": TimeoutValue
/// TimeoutUnit, at most 8 ASCII digits then one of H M S m u n). The proxy bounds a gRPC request
/// by it; the route's read timeout still bounds the wait for the answer's head. Pure logic.
struct GrpcTimeout {
  /// The longest TimeoutValue the spec allows (8 digits).
  static constexpr std::size_t kMaxDigits = 8;

  /// The duration `value` says, rounded up to whole milliseconds (a deadline of 1u must not
  /// read as "none"); nothing when it is malformed (empty, a ninth digit, a sign, an unknown
  /// unit), which gRPC servers ignore as if it were absent.
  static std::optional<std::chrono::milliseconds> parse(std::string_view value);
  /// The request's grpc-timeout, when it has a well-formed one.
  static std::optional<std::chrono::milliseconds> of(const http::HttpHead& request);
};

}  // namespace portico
