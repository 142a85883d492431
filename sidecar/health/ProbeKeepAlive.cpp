#include "health/ProbeKeepAlive.h"

namespace portico {

bool ProbeKeepAlive::fits(const HealthJob& held, const HealthJob& next) {
  return held.targetId == next.targetId && held.generation == next.generation &&
         next.spec.type == ProbeType::Http && held.spec == next.spec &&
         held.target.canonical == next.target.canonical && held.host == next.host &&
         held.preserveHost == next.preserveHost;
}

}  // namespace portico
