#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico {

// UTF-8 checks for untrusted text (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), and the two ways Portico turns any bytes into valid UTF-8.

/// The offset of the first byte that does not start a valid UTF-8 sequence; s.size() if none.
std::size_t invalidUtf8At(std::string_view s);

inline bool isValidUtf8(std::string_view s) {
  return invalidUtf8At(s) == s.size();
}

/// True when `s` is valid UTF-8 holding no control character: C0 (incl. NUL), DEL or C1.
bool isValidTextWithoutControls(std::string_view s);

/// `s` with each byte that is not part of a valid sequence replaced by U+FFFD; valid text,
/// control characters included, is unchanged. For stored text sent back in JSON answers.
std::string toValidUtf8(std::string_view s);

/// `s` as it may appear in a message: valid UTF-8 on one line. Control characters (C0, DEL, C1,
/// line and paragraph separators, bidirectional overrides) and bytes that are not UTF-8 become
/// visible escapes (\x00, \xFF, \u0085); cut after at most `maxChars` characters, never inside
/// one, with "…" marking the cut. printable(printable(s)) == printable(s).
std::string printable(std::string_view s, std::size_t maxChars = std::string_view::npos);

}  // namespace portico
