#pragma once

#include <string_view>

namespace portico::http {

/// The current time as an HTTP Date value (IMF-fixdate), formatted at most once per second per
/// thread: every response carries one.
std::string_view httpDate();

/// The standard reason phrase of `status` ("OK", "Bad Gateway"; "Unknown" for others).
std::string_view reasonPhrase(int status);

}  // namespace portico::http
