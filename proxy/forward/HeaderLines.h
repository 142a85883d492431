#pragma once

#include <string_view>

namespace portico {

/// Calls f(name, value) for each "Name: value\r\n" line of `lines`: the headers the proxy adds
/// to an answer of its own or to a target's (RateLimit-*, Retry-After), kept as the HTTP/1.1
/// text they are written as, and split for an HTTP/2 header list.
template <class F>
void forEachHeaderLine(std::string_view lines, F&& f) {
  while (!lines.empty()) {
    const auto end = lines.find("\r\n");
    const std::string_view line = lines.substr(0, end);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      f(line.substr(0, colon), value);
    }
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 2);
  }
}

}  // namespace portico
