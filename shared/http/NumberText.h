#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::http {

/// Numbers as text for message heads and chunk sizes, without printf (these run several times
/// per proxied request). Each writes backwards from `end` and returns the text.
inline std::string_view decimalText(std::uint64_t n, char (&buffer)[24]) {
  char* end = buffer + sizeof buffer;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  return std::string_view(p, static_cast<std::size_t>(end - p));
}

inline std::string_view hexText(std::uint64_t n, char (&buffer)[24]) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char* end = buffer + sizeof buffer;
  char* p = end;
  do {
    *--p = kDigits[n & 0xf];
    n >>= 4;
  } while (n != 0);
  return std::string_view(p, static_cast<std::size_t>(end - p));
}

inline void appendDecimal(std::string& out, std::uint64_t n) {
  char buffer[24];
  out.append(decimalText(n, buffer));
}

/// A chunk-size line: hex digits and CRLF.
inline std::string_view chunkSizeLine(std::uint64_t n, char (&buffer)[24]) {
  char* end = buffer + sizeof buffer;
  *--end = '\n';
  *--end = '\r';
  char* p = end;
  static constexpr char kDigits[] = "0123456789abcdef";
  do {
    *--p = kDigits[n & 0xf];
    n >>= 4;
  } while (n != 0);
  return std::string_view(p, static_cast<std::size_t>(buffer + sizeof buffer - p));
}

}  // namespace portico::http
