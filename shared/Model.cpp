#include "Model.h"

#include "Errors.h"

namespace portico {

BalancerKind parseBalancer(const std::string& name) {
  if (name == "round_robin") return BalancerKind::RoundRobin;
  if (name == "least_conn") return BalancerKind::LeastConn;
  if (name == "ip_hash") return BalancerKind::IpHash;
  throw InvalidInput("unknown balancer '" + name + "' (use round_robin, least_conn or ip_hash)");
}

std::string toString(BalancerKind kind) {
  switch (kind) {
    case BalancerKind::RoundRobin:
      return "round_robin";
    case BalancerKind::LeastConn:
      return "least_conn";
    case BalancerKind::IpHash:
      return "ip_hash";
  }
  return "round_robin";
}

ServingState parseServingState(const std::string& name) {
  if (name == "active") return ServingState::Active;
  if (name == "draining") return ServingState::Draining;
  if (name == "disabled") return ServingState::Disabled;
  throw InvalidInput("unknown target state '" + name + "' (use active, draining or disabled)");
}

std::string toString(ServingState state) {
  switch (state) {
    case ServingState::Draining:
      return "draining";
    case ServingState::Disabled:
      return "disabled";
    case ServingState::Active:
      break;
  }
  return "active";
}

ProbeType parseProbeType(const std::string& name) {
  if (name == "tcp") return ProbeType::Tcp;
  if (name == "http") return ProbeType::Http;
  throw InvalidInput("unknown health check type '" + name + "' (use tcp or http)");
}

std::string toString(ProbeType type) {
  return type == ProbeType::Http ? "http" : "tcp";
}

void HealthSpec::validate() const {
  if (interval.count() < 10) throw InvalidInput("health interval must be at least 10ms");
  if (timeout.count() < 1) throw InvalidInput("health timeout must be at least 1ms");
  if (fall < 1 || fall > 1000) throw InvalidInput("health fall must be between 1 and 1000");
  if (rise < 1 || rise > 1000) throw InvalidInput("health rise must be between 1 and 1000");
  if (path.empty() || path.front() != '/' || path.size() > 1024 ||
      path.find_first_of(" \t\r\n") != std::string::npos)
    throw InvalidInput("health path must start with '/' and contain no spaces");
  if (slowStart.count() < 0) throw InvalidInput("slow start must not be negative");
}

}  // namespace portico
