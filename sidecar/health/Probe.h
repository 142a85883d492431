#pragma once

#include <string>
#include <utility>

namespace portico {

/// What one probe saw: ok, or the reason it failed ("connect: Connection refused", ...).
struct ProbeResult {
  bool ok{true};
  std::string error;

  static ProbeResult success() { return {}; }
  static ProbeResult failure(std::string why) { return {false, std::move(why)}; }
};

}  // namespace portico
