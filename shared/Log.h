#pragma once

#include <string>

namespace portico {

/// Writes one timestamped line to stderr (operational events, not the access log).
void logLine(const std::string& message);

}  // namespace portico
