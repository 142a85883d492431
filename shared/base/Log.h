#pragma once

#include <string>
#include <string_view>

namespace portico {

/// Severity of an operational log line (`log.level`): a level shows itself and every level
/// above it (warn shows warn and error).
enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };
/// `log.format`: `text` (time level program: message) or `json` (one object per line).
enum class LogFormat { Text, Json };

LogLevel parseLogLevel(const std::string& text);  // throws InvalidInput
LogFormat parseLogFormat(const std::string& text);
const char* toString(LogLevel level);

/// The process's operational log on stderr (not the access log). Each line carries the time
/// (UTC, milliseconds), the level and the program, and is written with one write(2) so lines
/// from concurrent threads stay whole. The message is made printable (valid UTF-8, control
/// characters escaped in text, JSON-escaped in json), so it stays one line. Configured once at
/// start-up, before threads exist.
class Log {
 public:
  static void configure(std::string program, LogLevel level, LogFormat format);
  static bool enabled(LogLevel level);
  static void write(LogLevel level, std::string_view message);
  /// One line as write() would print it at `epochMs` (for tests).
  static std::string format(LogLevel level, std::string_view message, long long epochMs);
};

inline void logError(std::string_view message) {
  Log::write(LogLevel::Error, message);
}
inline void logWarn(std::string_view message) {
  Log::write(LogLevel::Warn, message);
}
inline void logInfo(std::string_view message) {
  Log::write(LogLevel::Info, message);
}
inline void logDebug(std::string_view message) {
  if (Log::enabled(LogLevel::Debug)) Log::write(LogLevel::Debug, message);
}
/// An info line (the historical name most call sites use).
inline void logLine(std::string_view message) {
  Log::write(LogLevel::Info, message);
}

}  // namespace portico
