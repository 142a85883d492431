#include "Balancer.h"

#include "IpHashBalancer.h"
#include "LeastConnBalancer.h"
#include "RoundRobinBalancer.h"

namespace portico {

std::unique_ptr<Balancer> makeBalancer(BalancerKind kind,
                                       std::vector<std::shared_ptr<TargetState>> targets,
                                       std::shared_ptr<BalancerState> state) {
  if (!state) state = std::make_shared<BalancerState>();
  switch (kind) {
    case BalancerKind::LeastConn:
      return std::make_unique<LeastConnBalancer>(std::move(targets), std::move(state));
    case BalancerKind::IpHash:
      return std::make_unique<IpHashBalancer>(std::move(targets));
    case BalancerKind::RoundRobin:
      break;
  }
  return std::make_unique<RoundRobinBalancer>(std::move(targets), std::move(state));
}

}  // namespace portico
