#pragma once

#include <string>
#include <string_view>

namespace portico {

/// Appends `s` to `out` as a JSON string literal (quotes included), escaping what RFC 8259
/// requires; bytes that are not UTF-8 become U+FFFD, so the result is always valid JSON text.
/// For hand-built JSON on paths where building a Poco::JSON::Object costs too much.
void appendJsonString(std::string& out, std::string_view s);

/// `s` as a JSON string literal, quotes included.
std::string jsonString(std::string_view s);

}  // namespace portico
