#include "forward/GrpcStatus.h"

namespace portico {

bool GrpcStatus::isGrpc(const http::HttpHead& request) {
  std::string_view type;
  if (!request.find("content-type", type)) return false;
  constexpr std::string_view kGrpc = "application/grpc";
  if (type.size() < kGrpc.size()) return false;
  for (std::size_t i = 0; i < kGrpc.size(); ++i) {
    const char c = type[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != kGrpc[i]) return false;
  }
  // "application/grpc-web" is another protocol (HTTP/1.1, body-framed trailers).
  return type.size() == kGrpc.size() || type[kGrpc.size()] == '+' || type[kGrpc.size()] == ';';
}

int GrpcStatus::codeFor(int httpStatus) {
  switch (httpStatus) {
    case 404:
      return kUnimplemented;
    case 502:
    case 503:
      return kUnavailable;
    case 504:
    case 408:
      return kDeadlineExceeded;
    case 429:
    case 413:
    case 431:
      return kResourceExhausted;
    default:
      return kInternal;
  }
}

std::string GrpcStatus::encodeMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b <= 0x7e && b != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

}  // namespace portico
