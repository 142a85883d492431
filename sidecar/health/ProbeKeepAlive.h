#pragma once

#include <cassert>
#include <chrono>
#include <cstddef>

#include "health/HealthSchedule.h"

namespace portico {

/// What a probe's answer said about its connection, as the parser saw it.
struct ProbeAnswer {
  bool keepAlive{false};  // HTTP/1.1 without `Connection: close` (the parser's verdict)
  bool complete{false};   // the whole message was read, body included
  bool leftover{false};   // bytes followed the message (nothing was asked for them)
};

/// Whether http probes keep their connection to a target open between probes, as Envoy's
/// health checker does, instead of a TCP (and TLS) handshake per probe. Pure logic: the loop
/// that owns the connections asks it.
///
/// Kept connections count against the sidecar's open-file limit, so there are at most `max` of
/// them at once (health.keepalive_max): a probe opening a new connection asks the target to keep
/// it only while fewer are counted, and one counted stays counted until it closes. Past the
/// cap, probes open and close their own connection (`Connection: close`), as before.
class ProbeKeepAlive {
 public:
  explicit ProbeKeepAlive(std::size_t max) : max_(max) {}

  /// A probe opens a new connection: true (and counted) when it may ask to keep it.
  bool claim() {
    if (kept_ >= max_) return false;
    ++kept_;
    return true;
  }
  /// A counted connection closed (error, timeout, not reusable, idle too long, check changed).
  void release() {
    assert(kept_ > 0);
    --kept_;
  }
  std::size_t kept() const { return kept_; }
  std::size_t max() const { return max_; }

  /// After a probe's answer: whether its connection may carry the next probe. Only a whole
  /// HTTP/1.1 keep-alive message with nothing after it leaves the connection in a known state.
  static bool reusable(const ProbeAnswer& answer) {
    return answer.keepAlive && answer.complete && !answer.leftover;
  }
  /// Whether a connection kept from probe `held` may carry probe `next`: the same target of
  /// the same generation, still an http check with the same settings (a changed check starts
  /// on a new connection).
  static bool fits(const HealthJob& held, const HealthJob& next);
  /// How long a kept connection may wait unused before it is closed: two intervals plus the
  /// timeout, so a target that was removed (or is probed by another sidecar now) gives its
  /// connection back within that while a probed one never waits so long.
  static std::chrono::milliseconds idleLimit(const HealthSpec& spec) {
    return spec.interval * 2 + spec.timeout;
  }

 private:
  std::size_t max_;
  std::size_t kept_{0};
};

}  // namespace portico
