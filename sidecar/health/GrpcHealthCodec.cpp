#include "health/GrpcHealthCodec.h"

#include <algorithm>
#include <cctype>

namespace portico {
namespace {

constexpr std::size_t kFrameHead = 5;  // compressed flag, 4-byte length

/// A base-128 varint at `at`; nullopt when it runs past the end or over 10 bytes.
std::optional<std::uint64_t> varint(std::string_view bytes, std::size_t& at) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70 && at < bytes.size(); shift += 7) {
    const auto b = static_cast<unsigned char>(bytes[at++]);
    value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return value;
  }
  return std::nullopt;
}

void putVarint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

/// Skips a field of `wireType` at `at`; false for a malformed or unknown wire type.
bool skipField(std::string_view bytes, std::size_t& at, std::uint64_t wireType) {
  switch (wireType) {
    case 0:
      return varint(bytes, at).has_value();
    case 1:
      at += 8;
      return at <= bytes.size();
    case 2: {
      const auto length = varint(bytes, at);
      if (!length || *length > bytes.size() - at) return false;
      at += static_cast<std::size_t>(*length);
      return true;
    }
    case 5:
      at += 4;
      return at <= bytes.size();
    default:
      return false;  // groups (3, 4) are not in proto3, nor in this message
  }
}

}  // namespace

std::string GrpcHealthCodec::request(const std::string& service) {
  std::string message;
  if (!service.empty()) {
    message.push_back(0x0a);  // field 1, wire type 2 (length-delimited)
    putVarint(message, service.size());
    message += service;
  }
  std::string framed(kFrameHead, '\0');
  const auto n = static_cast<std::uint32_t>(message.size());
  framed[1] = static_cast<char>(n >> 24);
  framed[2] = static_cast<char>(n >> 16);
  framed[3] = static_cast<char>(n >> 8);
  framed[4] = static_cast<char>(n);
  return framed + message;
}

std::optional<std::int64_t> GrpcHealthCodec::servingStatus(std::string_view body) {
  if (body.size() < kFrameHead || body[0] != 0) return std::nullopt;  // compressed: not asked for
  std::uint32_t n = 0;
  for (std::size_t i = 1; i < kFrameHead; ++i) n = (n << 8) | static_cast<unsigned char>(body[i]);
  if (body.size() - kFrameHead != n) return std::nullopt;  // one message, whole
  const std::string_view message = body.substr(kFrameHead);
  std::int64_t status = Unknown;
  for (std::size_t at = 0; at < message.size();) {
    const auto tag = varint(message, at);
    if (!tag || (*tag >> 3) == 0) return std::nullopt;
    if (*tag == 0x08) {  // field 1, varint: the last one wins (protobuf's rule)
      const auto value = varint(message, at);
      if (!value) return std::nullopt;
      status = static_cast<std::int64_t>(*value);
    } else if (!skipField(message, at, *tag & 7)) {
      return std::nullopt;
    }
  }
  return status;
}

std::string GrpcHealthCodec::timeoutHeader(std::chrono::milliseconds timeout) {
  const auto ms = std::max<std::int64_t>(1, std::min<std::int64_t>(timeout.count(), 99999999));
  return std::to_string(ms) + "m";
}

std::string GrpcHealthCodec::servingName(std::int64_t status) {
  switch (status) {
    case Unknown:
      return "UNKNOWN";
    case Serving:
      return "SERVING";
    case NotServing:
      return "NOT_SERVING";
    case ServiceUnknown:
      return "SERVICE_UNKNOWN";
    default:
      return std::to_string(status);
  }
}

std::string GrpcHealthCodec::decodeMessage(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '%' && i + 2 < message.size() &&
        std::isxdigit(static_cast<unsigned char>(message[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(message[i + 2]))) {
      out.push_back(
          static_cast<char>(std::stoi(std::string(message.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(message[i]);
    }
  }
  return out;
}

ProbeResult GrpcHealthCodec::verdict(const GrpcAnswer& answer) {
  if (answer.reset != 0 && !answer.grpcStatus)
    return ProbeResult::failure("grpc: stream reset (error " + std::to_string(answer.reset) + ")");
  if (answer.httpStatus != 200)
    return ProbeResult::failure("grpc: http status " + std::to_string(answer.httpStatus));
  if (answer.contentType.rfind("application/grpc", 0) != 0)
    return ProbeResult::failure("grpc: content-type '" + answer.contentType + "' is not gRPC");
  if (!answer.grpcStatus) return ProbeResult::failure("grpc: no grpc-status in the answer");
  if (*answer.grpcStatus != 0) {
    std::string why = "grpc-status " + std::to_string(*answer.grpcStatus);
    if (!answer.grpcMessage.empty()) why += ": " + decodeMessage(answer.grpcMessage);
    return ProbeResult::failure(why);
  }
  const auto status = servingStatus(answer.body);
  if (!status) return ProbeResult::failure("grpc: invalid HealthCheckResponse");
  if (*status != Serving) return ProbeResult::failure("grpc status " + servingName(*status));
  return ProbeResult::success();
}

}  // namespace portico
