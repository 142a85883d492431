#pragma once

// What every harness checks beyond "no crash, no sanitizer report": a failed check prints what
// broke and aborts, which libFuzzer reports as a crash with the input saved.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/Utf8.h"

namespace portico::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz check failed: %s: %s\n", what, printable(detail, 500).c_str());
  std::abort();
}

inline void require(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

/// An error message is one printable line of valid UTF-8, and says something.
inline void requireMessage(std::string_view message) {
  require(!message.empty(), "empty error message");
  require(isValidTextWithoutControls(message), "error message is not printable UTF-8", message);
}

/// Splits `in` at the first `sep`: the part before, and `in` becomes the rest ("" when absent).
inline std::string_view take(std::string_view& in, char sep) {
  const std::size_t at = in.find(sep);
  const std::string_view head = in.substr(0, at);
  in = at == std::string_view::npos ? std::string_view() : in.substr(at + 1);
  return head;
}

}  // namespace portico::fuzz
