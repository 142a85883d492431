#pragma once

#include "balance/Balancer.h"

namespace portico {

/// round_robin: smooth weighted round robin, nginx's algorithm. Each pick adds every allowed
/// candidate's effective weight to its current weight, takes the largest (the first in scan
/// order on ties) and subtracts the total from it: over any Σweights consecutive picks each
/// candidate gets exactly its weight, interleaved (5:1:1 gives a a b a c a a), and with equal
/// weights it is plain rotation. Candidates the filter rejects sit the pick out.
class RoundRobinBalancer : public Balancer {
 public:
  using Balancer::Balancer;
  std::size_t pick(std::string_view clientKey, const CandidateFilter& filter, PickState& state,
                   std::int64_t nowMs) const override;
};

}  // namespace portico
