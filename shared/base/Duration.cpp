#include "base/Duration.h"

#include <cmath>
#include <cstdlib>

#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {

std::chrono::milliseconds parseDuration(std::string_view text) {
  const std::string s(text);
  auto bad = [&](const char* why) {
    return InvalidInput("invalid duration '" + printable(s, 64) + "': " + why +
                        " (use a number with a unit: 250ms, 5s, 1m)");
  };
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) throw bad("no number");
  if (i == s.size()) throw bad("missing unit");
  char* end = nullptr;
  const std::string number = s.substr(0, i);
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) throw bad("bad number");
  const std::string unit = s.substr(i);
  double ms = 0;
  if (unit == "ms") {
    ms = value;
  } else if (unit == "s") {
    ms = value * 1000;
  } else if (unit == "m") {
    ms = value * 60000;
  } else if (unit == "h") {
    ms = value * 3600000;
  } else if (unit == "us") {
    ms = value / 1000;
  } else if (unit == "ns") {
    ms = value / 1e6;
  } else {
    throw bad("unknown unit");
  }
  if (ms > 7 * 24 * 3600000.0) throw bad("longer than a week");
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

std::string formatDuration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace portico
