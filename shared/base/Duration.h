#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace portico {

/// Parses "250ms", "5s", "1m", "1h", "1.5s" (also "us"/"ns"); throws InvalidInput otherwise.
std::chrono::milliseconds parseDuration(std::string_view text);

/// The shortest exact spelling with a unit: 1500ms -> "1500ms", 5000ms -> "5s", 60000ms -> "1m".
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace portico
