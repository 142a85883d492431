#pragma once

#include "Probe.h"

namespace portico {

/// Healthy when `GET <base path><health path>` answers 2xx/3xx, connect and response together
/// within the deadline.
class ProbeHttp : public Probe {
 public:
  ProbeResult check(const TargetUrl& target, const HealthSpec& spec,
                    std::chrono::steady_clock::time_point deadline) override;

  /// The request path: the target's base path joined to the route's health path.
  static std::string requestPath(const TargetUrl& target, const HealthSpec& spec);
};

}  // namespace portico
