#pragma once

#include <string>
#include <utility>

namespace portico {

/// What one probe saw: ok, or the reason it failed ("connect: Connection refused", ...). A
/// `local` failure is the checker's own (no descriptor or memory left to probe with): it says
/// nothing of the target, so it is no verdict either way.
struct ProbeResult {
  bool ok{true};
  std::string error;
  bool local{false};

  static ProbeResult success() { return {}; }
  static ProbeResult failure(std::string why) { return {false, std::move(why)}; }
  static ProbeResult localFailure(std::string why) { return {false, std::move(why), true}; }
};

}  // namespace portico
