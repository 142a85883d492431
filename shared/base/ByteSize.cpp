#include "base/ByteSize.h"

#include <cctype>

#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMax = kKiB * kKiB * kKiB * kKiB;  // 1 TiB: far beyond any body limit

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The multiple a unit stands for; 0 for an unknown one.
std::uint64_t unitOf(std::string_view unit) {
  const std::string u = lower(unit);
  if (u.empty() || u == "b") return 1;
  if (u == "k" || u == "kib" || u == "kb") return kKiB;
  if (u == "m" || u == "mib" || u == "mb") return kKiB * kKiB;
  if (u == "g" || u == "gib" || u == "gb") return kKiB * kKiB * kKiB;
  return 0;
}

}  // namespace

std::uint64_t parseByteSize(std::string_view text) {
  auto bad = [&](const char* why) {
    return InvalidInput("invalid size '" + printable(std::string(text), 64) + "': " + why +
                        " (use bytes or a unit: 512KiB, 10MiB, 1GiB)");
  };
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (n > kMax) throw bad("too large");
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) throw bad("no number");
  const std::uint64_t unit = unitOf(text.substr(i));
  if (unit == 0) throw bad("unknown unit");
  if (n > kMax / unit) throw bad("larger than 1024GiB");
  return n * unit;
}

std::string formatByteSize(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB"};
  std::size_t u = 0;
  while (u < 3 && bytes != 0 && bytes % kKiB == 0) {
    bytes /= kKiB;
    ++u;
  }
  return std::to_string(bytes) + kUnits[u];
}

}  // namespace portico
