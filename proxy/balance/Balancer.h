#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "balance/PickState.h"
#include "balance/TargetState.h"
#include "model/Model.h"

namespace portico {

/// Says whether candidate `index` may be chosen for this request (not cooling down, not
/// already tried). Implemented by the caller; no allocation on the request path.
class CandidateFilter {
 public:
  virtual ~CandidateFilter() = default;
  virtual bool allowed(std::size_t index) const = 0;
};

/// A target a balancer may choose, as its snapshot has it: only targets that may get new
/// requests (healthy, active, weight > 0) become candidates.
struct Candidate {
  /// warmFromMs of a target that is not ramping up (it has served for longer than any window).
  static constexpr std::int64_t kWarm = std::numeric_limits<std::int64_t>::min() / 4;

  std::shared_ptr<TargetState> target;
  int weight{kDefaultWeight};      // 1-1000
  std::int64_t warmFromMs{kWarm};  // steady-clock ms when its slow start began
};

/// Slow start: after a target turns healthy, is added or is re-enabled, its effective weight
/// grows linearly from 10 % to 100 % of its weight over the window (as in HAProxy and Envoy).
class SlowStart {
 public:
  explicit SlowStart(std::chrono::milliseconds window = std::chrono::milliseconds(0))
      : windowMs_(window.count()) {}

  /// The share of its weight `c` has at `nowMs`, in thousandths: 100 at the start of the
  /// window, 1000 from its end on (and always when slow start is off).
  std::int64_t permille(const Candidate& c, std::int64_t nowMs) const {
    if (windowMs_ <= 0) return 1000;
    const std::int64_t elapsed = nowMs - rampFrom(c);
    if (elapsed >= windowMs_) return 1000;
    if (elapsed <= 0) return 100;
    return 100 + 900 * elapsed / windowMs_;
  }
  /// `c`'s weight at `nowMs`, in thousandths of a weight unit.
  std::int64_t effective(const Candidate& c, std::int64_t nowMs) const {
    return c.weight * permille(c, nowMs);
  }
  std::int64_t windowMs() const { return windowMs_; }

  /// When `c`'s ramp began: when its slow start began in the snapshot, or later, when it came
  /// back from an outlier ejection (issue #20: an ejected target returns through slow start,
  /// as Envoy's does), whichever is last. One relaxed load, only with slow start on.
  static std::int64_t rampFrom(const Candidate& c) {
    const std::int64_t returned =
        c.target ? c.target->returnedAtMs.load(std::memory_order_relaxed) : 0;
    return returned != 0 ? std::max(c.warmFromMs, returned) : c.warmFromMs;
  }

 private:
  std::int64_t windowMs_;
};

/// Chooses one of a route's candidates for a request. Built once per snapshot and immutable:
/// one balancer is shared by every event loop, and all that changes from pick to pick lives in
/// the caller's PickState, so pick() takes no lock and allocates nothing.
class Balancer {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  Balancer(std::vector<Candidate> candidates, SlowStart slowStart)
      : candidates_(std::move(candidates)), slowStart_(slowStart) {}
  virtual ~Balancer() = default;
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  /// An index into candidates() for which filter.allowed() is true, or npos when none is.
  /// `clientKey` is the client IP (ip_hash uses it); `state` is the calling loop's state for
  /// this route; `nowMs` is steady-clock milliseconds (the clock of Candidate::warmFromMs).
  virtual std::size_t pick(std::string_view clientKey, const CandidateFilter& filter,
                           PickState& state, std::int64_t nowMs) const = 0;

  const std::vector<Candidate>& candidates() const { return candidates_; }
  const SlowStart& slowStart() const { return slowStart_; }

 protected:
  std::vector<Candidate> candidates_;
  SlowStart slowStart_;
};

/// The balancer of `kind` over `candidates` (in the route's stored order). `weightScale` is the
/// largest weight of the route's targets, in rotation or not (0: the largest candidate's); only
/// ip_hash uses it (see IpHashBalancer).
std::unique_ptr<const Balancer> makeBalancer(BalancerKind kind, std::vector<Candidate> candidates,
                                             SlowStart slowStart = SlowStart(),
                                             int weightScale = 0);

/// The balancer a route table gives a route: as makeBalancer, except that round_robin is one
/// rotation shared by every event loop (SharedRotation) rather than one per PickState.
std::unique_ptr<const Balancer> makeRouteBalancer(BalancerKind kind,
                                                  std::vector<Candidate> candidates,
                                                  SlowStart slowStart, int weightScale);

}  // namespace portico
