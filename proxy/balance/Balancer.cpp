#include "balance/Balancer.h"

#include "balance/IpHashBalancer.h"
#include "balance/LeastConnBalancer.h"
#include "balance/RoundRobinBalancer.h"
#include "balance/SharedRotation.h"

namespace portico {

std::unique_ptr<const Balancer> makeBalancer(BalancerKind kind, std::vector<Candidate> candidates,
                                             SlowStart slowStart, int weightScale) {
  switch (kind) {
    case BalancerKind::LeastConn:
      return std::make_unique<LeastConnBalancer>(std::move(candidates), slowStart);
    case BalancerKind::IpHash:
      return std::make_unique<IpHashBalancer>(std::move(candidates), slowStart, weightScale);
    case BalancerKind::RoundRobin:
      break;
  }
  return std::make_unique<RoundRobinBalancer>(std::move(candidates), slowStart);
}

}  // namespace portico

namespace portico {

std::unique_ptr<const Balancer> makeRouteBalancer(BalancerKind kind,
                                                  std::vector<Candidate> candidates,
                                                  SlowStart slowStart, int weightScale) {
  if (kind == BalancerKind::RoundRobin)
    return std::make_unique<SharedRotation>(std::move(candidates), slowStart);
  return makeBalancer(kind, std::move(candidates), slowStart, weightScale);
}

}  // namespace portico
