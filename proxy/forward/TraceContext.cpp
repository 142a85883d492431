#include "forward/TraceContext.h"

#include <cstring>

namespace portico {
namespace {

bool lowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool allZero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

bool TraceContext::valid(std::string_view value) {
  if (value.size() < kLength) return false;
  const std::string_view version = value.substr(0, 2);
  if (!lowerHex(version) || version == "ff") return false;
  // Version 00 is exactly 55 characters; a later one may append fields after a dash.
  if (version == "00" ? value.size() != kLength : value.size() > kLength && value[kLength] != '-')
    return false;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
  const std::string_view traceId = value.substr(3, 32), parentId = value.substr(36, 16),
                         flags = value.substr(53, 2);
  return lowerHex(traceId) && lowerHex(parentId) && lowerHex(flags) && !allZero(traceId) &&
         !allZero(parentId);
}

bool TraceContext::isTraceHeader(std::string_view name) {
  return equalsNoCase(name, kParentHeader) || equalsNoCase(name, kStateHeader);
}

TraceContext::TraceContext(std::string_view incoming, double sampleRate, RequestIdGenerator& ids) {
  if (valid(incoming)) {
    value_ = incoming;
    return;
  }
  started_ = true;
  char random[RequestIdGenerator::kLength];
  std::memcpy(buffer_, "00-", 3);
  std::memcpy(buffer_ + 3, ids.next(random).data(), 32);
  buffer_[35] = '-';
  const std::string_view more = ids.next(random);
  std::memcpy(buffer_ + 36, more.data(), 16);
  // The other 16 digits of `more` decide the sampling: uniform over [0, 2^64).
  std::uint64_t draw = 0;
  for (char c : more.substr(16))
    draw = draw << 4 | static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  const bool sampled =
      sampleRate >= 1.0 ||
      (sampleRate > 0 && static_cast<double>(draw) < sampleRate * 18446744073709551616.0);
  std::memcpy(buffer_ + 52, sampled ? "-01" : "-00", 3);
  // An all-zero id is invalid (§3.2.2.3); 2^-128 and 2^-64 odds, still not to be sent.
  if (allZero(std::string_view(buffer_ + 3, 32))) buffer_[34] = '1';
  if (allZero(std::string_view(buffer_ + 36, 16))) buffer_[51] = '1';
  value_ = std::string_view(buffer_, kLength);
}

bool TraceContext::sampled() const {
  const char last = value_[54];
  const int flags = last <= '9' ? last - '0' : last - 'a' + 10;
  return (flags & 1) != 0;
}

}  // namespace portico
