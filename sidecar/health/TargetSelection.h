#pragma once

#include <string>
#include <vector>

#include "model/Model.h"

namespace portico {

/// Which of the store's targets a health checker probes (without one, it probes them all):
/// several sidecars on one store share the targets out between them (HealthLeases).
class TargetSelection {
 public:
  virtual ~TargetSelection() = default;
  /// The routes with only the targets this checker is to probe. Called on the checker's store
  /// thread at every reload; may read and write the store. `whole`: `routes` is every route;
  /// otherwise only those a change touched (the others are as the last calls left them).
  virtual std::vector<RouteRecord> select(std::vector<RouteRecord> routes, bool whole) = 0;
  /// The author of this checker's verdicts: the store writes one only while it holds the
  /// target's lease.
  virtual std::string holder() const = 0;
  /// True while the store cannot be reached: the checker probes nothing until it is back.
  virtual bool paused() const = 0;
};

}  // namespace portico
