#include "store/StoreTime.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>

namespace portico {

std::optional<std::int64_t> storeTimeMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  Poco::DateTime parsed;
  int zone = 0;
  if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, parsed,
                                      zone))
    return std::nullopt;
  return (parsed.timestamp().epochMicroseconds() - static_cast<Poco::Int64>(zone) * 1000000) / 1000;
}

std::string storeTimeText(std::int64_t ms) {
  const Poco::Timestamp at(static_cast<Poco::Timestamp::TimeVal>(ms) * 1000);
  return Poco::DateTimeFormatter::format(at, "%Y-%m-%dT%H:%M:%S.%iZ");
}

}  // namespace portico
