#pragma once

#include "balance/Balancer.h"

namespace portico {

/// least_conn: the allowed candidate with the fewest requests in flight from this proxy per
/// unit of effective weight (in-flight / weight, compared without division); candidates tied
/// there share the picks by smooth weighted round robin, so with no load at all the split
/// follows the weights. pick() only reads TargetState::inFlight: the caller counts the request
/// in and out.
class LeastConnBalancer : public Balancer {
 public:
  using Balancer::Balancer;
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter, PickState& state,
                   std::int64_t nowMs) const override;
};

}  // namespace portico
