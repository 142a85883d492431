#include "health/HealthState.h"

namespace portico {

bool HealthState::record(bool ok, int fall, int rise) {
  if (ok == healthy_) {
    streak_ = 0;
    return false;
  }
  const int needed = healthy_ ? fall : rise;
  if (++streak_ < (needed < 1 ? 1 : needed)) return false;
  healthy_ = ok;
  streak_ = 0;
  return true;
}

}  // namespace portico
