#pragma once

#include "Probe.h"

namespace portico {

/// Healthy when a TCP connection to the target's host:port opens before the deadline.
class ProbeTcp : public Probe {
 public:
  ProbeResult check(const TargetUrl& target, const HealthSpec& spec,
                    std::chrono::steady_clock::time_point deadline) override;
};

}  // namespace portico
