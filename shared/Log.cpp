#include "Log.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

#include <cstdio>

#include "Utf8.h"

namespace portico {

void logLine(const std::string& message) {
  // printable(): a message may quote a request path or method; a newline or control character
  // in it must not forge a second line or reach the terminal.
  const std::string line =
      Poco::DateTimeFormatter::format(Poco::DateTime(), "%Y-%m-%dT%H:%M:%S.%iZ ") +
      printable(message) + "\n";
  // One fwrite per line keeps concurrent lines whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace portico
