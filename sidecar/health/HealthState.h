#pragma once

namespace portico {

/// One target's verdict with fall/rise hysteresis: `fall` consecutive failures turn a healthy
/// target unhealthy, `rise` consecutive successes bring it back. Pure logic.
class HealthState {
 public:
  explicit HealthState(bool healthy = true) : healthy_(healthy) {}

  /// Counts one probe result; returns true when the verdict flipped.
  bool record(bool ok, int fall, int rise);
  bool healthy() const { return healthy_; }
  /// Consecutive results so far that contradict the current verdict.
  int streak() const { return streak_; }

 private:
  bool healthy_;
  int streak_{0};
};

}  // namespace portico
