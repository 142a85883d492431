#pragma once

#include <memory>
#include <vector>

#include "Balancer.h"

namespace portico {

/// round_robin: targets in turn, driven by the route's shared cursor so the rotation carries on
/// across snapshot swaps; candidates the filter rejects are skipped.
class RoundRobinBalancer : public Balancer {
 public:
  RoundRobinBalancer(std::vector<std::shared_ptr<TargetState>> targets,
                     std::shared_ptr<BalancerState> state);
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter) override;

 private:
  std::vector<std::shared_ptr<TargetState>> targets_;
  std::shared_ptr<BalancerState> state_;
};

}  // namespace portico
