#include "forward/RequestId.h"

#include <random>

namespace portico {

RequestIdGenerator::RequestIdGenerator() {
  std::random_device device;
  state_ = (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::uint64_t RequestIdGenerator::step() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string_view RequestIdGenerator::next(char (&out)[kLength]) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t half = 0; half < 2; ++half) {
    std::uint64_t v = step();
    for (std::size_t i = 0; i < 16; ++i) {
      out[half * 16 + 15 - i] = kHex[v & 0xf];
      v >>= 4;
    }
  }
  return std::string_view(out, kLength);
}

RequestIdGenerator& RequestIdGenerator::forThisThread() {
  thread_local RequestIdGenerator generator;
  return generator;
}

bool RequestIdGenerator::acceptable(std::string_view id) {
  if (id.empty() || id.size() > kMaxIncoming) return false;
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace portico
