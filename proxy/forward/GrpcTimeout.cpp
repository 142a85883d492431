#include "forward/GrpcTimeout.h"

#include <cstdint>

namespace portico {

std::optional<std::chrono::milliseconds> GrpcTimeout::parse(std::string_view value) {
  if (value.size() < 2 || value.size() > kMaxDigits + 1) return std::nullopt;
  std::int64_t n = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  // Nanoseconds per unit; 8 digits of hours (~1e8 * 3.6e12 ns) overflow int64, so the big units
  // are counted in milliseconds directly.
  switch (value.back()) {
    case 'H':
      return std::chrono::milliseconds(n * 3600 * 1000);
    case 'M':
      return std::chrono::milliseconds(n * 60 * 1000);
    case 'S':
      return std::chrono::milliseconds(n * 1000);
    case 'm':
      return std::chrono::milliseconds(n);
    case 'u':
      return std::chrono::milliseconds((n + 999) / 1000);
    case 'n':
      return std::chrono::milliseconds((n + 999'999) / 1'000'000);
    default:
      return std::nullopt;
  }
}

std::optional<std::chrono::milliseconds> GrpcTimeout::of(const http::HttpHead& request) {
  std::string_view value;
  if (!request.find("grpc-timeout", value)) return std::nullopt;
  return parse(value);
}

}  // namespace portico
