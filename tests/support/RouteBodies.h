#pragma once

// JSON bodies of the admin requests the end-to-end suites send, built in one place.

#include <string>
#include <vector>

namespace portico::test {

/// A JSON string literal.
inline std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

inline std::string jsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + quoted(items[i]);
  return out + "]";
}

/// {"prefixPath":PREFIX,"targets":[URL,...]} with `extra` JSON members before the closing brace
/// (",\"healthCheck\":{...}"): the body of a route creation, an add or a remove.
inline std::string targetsBody(const std::string& prefix, const std::vector<std::string>& targets,
                               const std::string& extra = "") {
  return "{\"prefixPath\":" + quoted(prefix) + ",\"targets\":" + jsonList(targets) + extra + "}";
}

}  // namespace portico::test
