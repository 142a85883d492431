#include "base/JsonText.h"

#include "base/Utf8.h"

namespace portico {
namespace {

void appendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  // JSON text must be UTF-8 (RFC 8259 8.1): bytes that are not become U+FFFD rather than
  // making the whole answer undecodable. Valid text, the usual case, is copied as it is.
  if (isValidUtf8(s)) {
    appendEscaped(out, s);
  } else {
    appendEscaped(out, toValidUtf8(s));
  }
  out.push_back('"');
}

std::string jsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  appendJsonString(out, s);
  return out;
}

}  // namespace portico
