#include "base/Log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include "base/Errors.h"
#include "base/JsonText.h"
#include "base/Utf8.h"

namespace portico {
namespace {

// Set once by configure() before any thread starts; read without a lock afterwards.
std::string gProgram = "portico";
std::atomic<int> gLevel{static_cast<int>(LogLevel::Info)};
std::atomic<int> gFormat{static_cast<int>(LogFormat::Text)};

std::string isoTime(long long epochMs) {
  const std::time_t seconds = static_cast<std::time_t>(epochMs / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(epochMs % 1000));
  return buffer;
}

}  // namespace

LogLevel parseLogLevel(const std::string& text) {
  if (text == "error") return LogLevel::Error;
  if (text == "warn" || text == "warning") return LogLevel::Warn;
  if (text == "info") return LogLevel::Info;
  if (text == "debug") return LogLevel::Debug;
  throw InvalidInput("'" + text + "' is not a log level (error, warn, info, debug)");
}

LogFormat parseLogFormat(const std::string& text) {
  if (text == "text") return LogFormat::Text;
  if (text == "json") return LogFormat::Json;
  throw InvalidInput("'" + text + "' is not a log format (text, json)");
}

const char* toString(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return "error";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Info:
      return "info";
    case LogLevel::Debug:
      return "debug";
  }
  return "info";
}

void Log::configure(std::string program, LogLevel level, LogFormat format) {
  gProgram = std::move(program);
  gLevel = static_cast<int>(level);
  gFormat = static_cast<int>(format);
}

bool Log::enabled(LogLevel level) {
  return static_cast<int>(level) <= gLevel.load(std::memory_order_relaxed);
}

std::string Log::format(LogLevel level, std::string_view message, long long epochMs) {
  std::string line;
  if (static_cast<LogFormat>(gFormat.load(std::memory_order_relaxed)) == LogFormat::Json) {
    line =
        "{\"time\":\"" + isoTime(epochMs) + "\",\"level\":\"" + toString(level) + "\",\"program\":";
    appendJsonString(line, gProgram);
    line += ",\"message\":";
    appendJsonString(line, message);
    line += "}\n";
  } else {
    // printable(): a message may quote a request path or method; a newline or control character
    // in it must not forge a second line or reach the terminal. (The JSON form escapes them.)
    line = isoTime(epochMs) + " " + toString(level) + " " + gProgram + ": ";
    line += printable(message);
    line += '\n';
  }
  return line;
}

void Log::write(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const std::string line =
      format(level, message, static_cast<long long>(tv.tv_sec) * 1000 + tv.tv_usec / 1000);
  // One write per line keeps concurrent lines whole (stderr is unbuffered anyway).
  const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
  (void)written;
}

}  // namespace portico
