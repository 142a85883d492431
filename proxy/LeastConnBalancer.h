#pragma once

#include <memory>
#include <vector>

#include "Balancer.h"

namespace portico {

/// least_conn: the allowed target with the fewest requests in flight from this proxy; ties go
/// in turn (the scan starts at the route's cursor). pick() only reads TargetState::inFlight:
/// the caller counts the request in and out.
class LeastConnBalancer : public Balancer {
 public:
  LeastConnBalancer(std::vector<std::shared_ptr<TargetState>> targets,
                    std::shared_ptr<BalancerState> state);
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter) override;

 private:
  std::vector<std::shared_ptr<TargetState>> targets_;
  std::shared_ptr<BalancerState> state_;
};

}  // namespace portico
