#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace portico {

/// How a key's value is read (config/Settings.cpp has one reader per type).
enum class SettingType {
  Text,       // trimmed; a key may add its own check
  Integer,    // whole number in [min, max]
  Duration,   // 250ms, 5s, 1m; at least `min` milliseconds
  Boolean,    // true/false, on/off, yes/no, 1/0
  List,       // comma-separated, blanks dropped
  PortOrOff,  // a port in [min, max], or "off"
};

/// One configuration key: its name, how it is read, its default, its range and a line of doc.
/// Route keys are named with `<name>` for the route's name (`route.<name>.prefix`).
struct SettingKey {
  std::string_view name;
  SettingType type;
  /// The value when the key is absent, as conf/portico.properties writes it; for a default
  /// computed from other keys, what the file shows for it (`(proxy.host)`).
  std::string_view byDefault;
  std::int64_t min{0};  // Integer, PortOrOff: the range; Duration: milliseconds
  std::int64_t max{std::numeric_limits<std::int64_t>::max()};
  std::string_view doc;
  /// conf/portico.properties shows this sample value instead of the default (empty: none).
  std::string_view example{};
  /// Also settable per route, as `route.<name>.` + name (the health.* checks).
  bool perRoute{false};
};

/// Every configuration key both programs read, in the order conf/portico.properties documents them.
const std::vector<SettingKey>& settingKeys();

/// The key named `name`, which must be in settingKeys() (a programming error otherwise).
const SettingKey& settingKey(std::string_view name);

/// The sections a key may start with (`store`, `proxy`, ..., `route`).
std::vector<std::string> settingSections();

/// The names that may follow `parent` + "." (`proxy` -> host, port, ..., tls), in table order.
std::vector<std::string> settingChildren(std::string_view parent);

}  // namespace portico
