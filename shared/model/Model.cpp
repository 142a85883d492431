#include "model/Model.h"

#include <cctype>

#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {

BalancerKind parseBalancer(const std::string& name) {
  if (name == "round_robin") return BalancerKind::RoundRobin;
  if (name == "least_conn") return BalancerKind::LeastConn;
  if (name == "ip_hash") return BalancerKind::IpHash;
  throw InvalidInput("unknown balancer '" + printable(name, 64) +
                     "' (use round_robin, least_conn or ip_hash)");
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
  throw InvalidInput("unknown target state '" + printable(name, 64) +
                     "' (use active, draining or disabled)");
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
  throw InvalidInput("unknown health check type '" + printable(name, 64) + "' (use tcp or http)");
}

std::string toString(ProbeType type) {
  return type == ProbeType::Http ? "http" : "tcp";
}

void HealthSpec::validate() const {
  if (interval.count() < 10) throw InvalidInput("health interval must be at least 10ms");
  if (timeout.count() < 1) throw InvalidInput("health timeout must be at least 1ms");
  if (fall < 1 || fall > 1000) throw InvalidInput("health fall must be between 1 and 1000");
  if (rise < 1 || rise > 1000) throw InvalidInput("health rise must be between 1 and 1000");
  // The path goes into a probe's request line as it is: printable ASCII (RFC 9112 request-target).
  if (path.empty() || path.front() != '/') throw InvalidInput("health path must start with '/'");
  if (path.size() > 1024) throw InvalidInput("health path is longer than 1024 characters");
  const std::string shown = "health path '" + printable(path, 64) + "'";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c <= 0x20 || c == 0x7f)
      throw InvalidInput(shown + " contains a space or control character");
    if (c >= 0x80) throw InvalidInput(shown + " must be ASCII (percent-encode other characters)");
    if (c == '#') throw InvalidInput(shown + " may not contain '#'");
    if (c == '%' &&
        (i + 2 >= path.size() || !std::isxdigit(static_cast<unsigned char>(path[i + 1])) ||
         !std::isxdigit(static_cast<unsigned char>(path[i + 2]))))
      throw InvalidInput(shown + ": '%' must start a %XX escape");
  }
  if (slowStart.count() < 0) throw InvalidInput("slow start must not be negative");
}

}  // namespace portico
