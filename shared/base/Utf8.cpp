#include "base/Utf8.h"

#include <cstdint>

namespace portico {
namespace {

/// The length of the valid sequence at s[i] and its code point, or 0 when it is not one.
std::size_t sequenceAt(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    cp = b0 & 0x1f;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    cp = b0 & 0x0f;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;  // a continuation byte, C0/C1 (always overlong) or F5..FF (never UTF-8)
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

bool isControl(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/// Characters that would make a message misleading when shown: controls, and the ones that
/// break a line or reorder the text around them.
bool mustEscape(char32_t cp) {
  return isControl(cp) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

constexpr char kHex[] = "0123456789ABCDEF";

void appendEscape(std::string& out, char32_t cp, bool isByte) {
  if (isByte || cp < 0x80) {
    out += "\\x";
    out.push_back(kHex[(cp >> 4) & 0xf]);
    out.push_back(kHex[cp & 0xf]);
    return;
  }
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 0xf]);
}

}  // namespace

std::size_t invalidUtf8At(std::string_view s) {
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    // ASCII runs are the common case: skip them without decoding.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = sequenceAt(s, i, cp);
    if (len == 0) return i;
    i += len;
  }
  return s.size();
}

bool isValidTextWithoutControls(std::string_view s) {
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    const std::size_t len = sequenceAt(s, i, cp);
    if (len == 0 || isControl(cp)) return false;
    i += len;
  }
  return true;
}

std::string toValidUtf8(std::string_view s) {
  const std::size_t bad = invalidUtf8At(s);
  if (bad == s.size()) return std::string(s);
  std::string out(s.substr(0, bad));
  std::size_t i = bad;
  char32_t cp = 0;
  while (i < s.size()) {
    const std::size_t len = sequenceAt(s, i, cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string printable(std::string_view s, std::size_t maxChars) {
  std::string out;
  out.reserve(s.size() < 256 ? s.size() : 256);
  std::size_t i = 0;
  std::size_t chars = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    if (chars == maxChars) {
      out += "\xE2\x80\xA6";  // "…"
      break;
    }
    const std::size_t len = sequenceAt(s, i, cp);
    if (len == 0) {
      appendEscape(out, static_cast<unsigned char>(s[i]), true);
      ++i;
    } else {
      if (mustEscape(cp)) {
        appendEscape(out, cp, false);
      } else {
        out.append(s.substr(i, len));
      }
      i += len;
    }
    ++chars;
  }
  return out;
}

}  // namespace portico
