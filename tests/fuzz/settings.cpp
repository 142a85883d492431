// Settings: a configuration file (POCO properties) and --define values, layered as
// PorticoApplication layers them. Input: the file, then optionally a line "--" followed by one
// --define value per line. Every refusal must be a ConfigError: one printable line naming a key.

#include "config/Settings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <sstream>

#include "base/Duration.h"
#include "base/Errors.h"
#include "fuzz/FuzzCheck.h"
#include "model/Normalize.h"

using namespace portico;
using namespace portico::fuzz;

namespace {

Settings load(std::string_view in) {
  std::string_view file = in;
  std::string_view defines;
  if (const auto at = in.find("\n--\n"); at != std::string_view::npos) {
    file = in.substr(0, at);
    defines = in.substr(at + 4);
  }
  auto config = Poco::makeAuto<Poco::Util::LayeredConfiguration>();
  Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> properties;
  try {
    std::istringstream stream{std::string(file)};
    properties = Poco::makeAuto<Poco::Util::PropertyFileConfiguration>(stream);
  } catch (const Poco::Exception& e) {
    // PorticoApplication::loadFiles reports a file it cannot read this way.
    throw ConfigError("--config", "cannot read the file: " + e.displayText());
  }
  Settings::rejectUnknownSections(*properties);
  config->add(properties, 0, false);
  auto overrides = Poco::makeAuto<Poco::Util::MapConfiguration>();
  while (!defines.empty()) {
    const auto [key, value] = Settings::parseDefine(std::string(take(defines, '\n')));
    overrides->setString(key, value);
  }
  Settings::rejectUnknownSections(*overrides);
  config->add(overrides, -200, false);
  return Settings::load(*config);
}

void checkHealth(const HealthSpec& h) {
  h.validate();  // throws, and so fails the harness, when load() let a bad value through
  require(h.interval.count() >= 10 && h.timeout.count() >= 1, "health durations");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Settings s;
  try {
    s = load(text(data, size));
  } catch (const ConfigError& e) {
    requireMessage(e.what());
    require(!e.key().empty(), "a refusal names no key", e.what());
    return 0;
  }
  require(normalizePrefix(s.admin.prefix + "/") == s.admin.prefix + "/", "admin.prefix",
          s.admin.prefix);
  require(!s.storePath.empty() && !s.proxy.host.empty() && !s.admin.host.empty(), "empty value");
  require(s.proxy.port >= 1 && s.proxy.port <= 65535 && s.admin.port >= 1 && s.admin.port <= 65535,
          "port range");
  for (const auto d : {s.proxy.reloadInterval, s.proxy.connectTimeout, s.proxy.readTimeout})
    require(parseDuration(formatDuration(d)) == d, "duration does not round-trip");
  checkHealth(s.health);
  for (const auto& route : s.routes) {
    require(normalizePrefix(route.spec.prefix) == route.spec.prefix, "route prefix",
            route.spec.prefix);
    checkHealth(route.spec.health);
    for (const auto& target : route.spec.targets) {
      require(parseTargetUrl(target.url).canonical == target.url, "route target not canonical",
              target.url);
      require(target.weight >= 0 && target.weight <= kMaxWeight, "route target weight", target.url);
    }
  }
  return 0;
}
