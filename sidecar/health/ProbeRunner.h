#pragma once

#include <vector>

#include "health/HealthSchedule.h"
#include "health/Probe.h"

namespace portico {

/// A finished probe: the job it ran, what it saw and how long it took.
struct ProbeOutcome {
  HealthJob job;
  ProbeResult result;
  double seconds{0};
};

/// Where a runner hands finished probes, in batches, from the runner's own threads.
class ProbeSink {
 public:
  virtual ~ProbeSink() = default;
  virtual void probed(std::vector<ProbeOutcome>& outcomes) = 0;
};

/// The health checker's I/O: runs probes without blocking the caller. Every job started ends
/// in exactly one outcome, by its timeout (the runner enforces it), unless the runner stops
/// first.
class ProbeRunner {
 public:
  virtual ~ProbeRunner() = default;
  /// Outcomes go to `sink` from now until stop() returns.
  virtual void start(ProbeSink& sink) = 0;
  /// From any thread, after start(): probes `jobs` now.
  virtual void run(std::vector<HealthJob> jobs) = 0;
  /// Drops the probes in flight (they have no outcome) and returns once the sink is no longer
  /// called. start() may follow.
  virtual void stop() = 0;
};

}  // namespace portico
