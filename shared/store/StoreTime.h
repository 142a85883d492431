#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace portico {

/// A store timestamp (ISO-8601 UTC as SQLite's strftime writes it, "2024-05-01T12:00:00.123Z")
/// as milliseconds since the Unix epoch; nothing for an empty or unreadable one.
std::optional<std::int64_t> storeTimeMs(const std::string& text);
/// The reverse: milliseconds since the Unix epoch as store text ("2024-05-01T12:00:00.123Z").
std::string storeTimeText(std::int64_t ms);

}  // namespace portico
