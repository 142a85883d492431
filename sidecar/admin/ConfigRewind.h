#pragma once

#include <vector>

#include "model/Model.h"

namespace portico {

/// The desired state as it stood right after an earlier revision (POST /endpoints/revert),
/// rebuilt from the change history with no I/O: the stored routes, with the history rows newer
/// than that revision undone, newest first. Walking back rather than forward from the first
/// revision needs only the rows after the revision reverted to, so a revert to a recent revision
/// works however much older history store.history_limit has trimmed.
///
/// Every row that changes desired state is undone from its `before` (route.create,
/// route.delete, route.update, route.health_check, target.add, target.remove, target.weight,
/// target.state, target.max_connections); health verdicts (target.health) are not desired
/// state and are skipped. A row it cannot read (edited by hand, an action it does not know) is
/// an ApiError(409) naming it: nothing is reverted on a guess.
class ConfigRewind {
 public:
  /// `current`: the routes as stored; `newer`: every history row after the revision to go back
  /// to, oldest first (HistoryAfter).
  static std::vector<RouteSpec> undo(const std::vector<RouteRecord>& current,
                                     const std::vector<ChangeRecord>& newer);
};

}  // namespace portico
