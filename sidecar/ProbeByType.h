#pragma once

#include "Probe.h"
#include "ProbeHttp.h"
#include "ProbeTcp.h"

namespace portico {

/// The production probe: a TCP connect or an HTTP GET, as each route's health type asks.
class ProbeByType : public Probe {
 public:
  ProbeResult check(const TargetUrl& target, const HealthSpec& spec,
                    std::chrono::steady_clock::time_point deadline) override;

 private:
  ProbeTcp tcp_;
  ProbeHttp http_;
};

}  // namespace portico
