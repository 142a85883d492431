#pragma once

#include <chrono>
#include <string>

#include "Model.h"
#include "Normalize.h"

namespace portico {

/// What one probe saw: ok, or the reason it failed ("connect: Connection refused", ...).
struct ProbeResult {
  bool ok{true};
  std::string error;

  static ProbeResult success() { return {}; }
  static ProbeResult failure(std::string why) { return {false, std::move(why)}; }
};

/// One kind of active health probe. Called concurrently from the checker's workers, so
/// implementations keep no per-call state; a probe never outlives `deadline` by much.
class Probe {
 public:
  virtual ~Probe() = default;
  virtual ProbeResult check(const TargetUrl& target, const HealthSpec& spec,
                            std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace portico
