#include "ProbeByType.h"

namespace portico {

ProbeResult ProbeByType::check(const TargetUrl& target, const HealthSpec& spec,
                               std::chrono::steady_clock::time_point deadline) {
  if (spec.type == ProbeType::Http) return http_.check(target, spec, deadline);
  return tcp_.check(target, spec, deadline);
}

}  // namespace portico
