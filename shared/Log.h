#pragma once

#include <string>

namespace portico {

/// Writes one timestamped line to stderr (operational events, not the access log); the message
/// is made printable (valid UTF-8, control characters escaped), so it stays one line.
void logLine(const std::string& message);

}  // namespace portico
