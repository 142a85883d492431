#include "model/Model.h"

#include <cassert>
#include <cctype>
#include <cstddef>

#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {

namespace {

/// An enum value and the name configuration, the API and the store spell it with.
template <typename E>
struct Named {
  E value;
  const char* name;
};

constexpr Named<BalancerKind> kBalancers[] = {{BalancerKind::RoundRobin, "round_robin"},
                                              {BalancerKind::LeastConn, "least_conn"},
                                              {BalancerKind::IpHash, "ip_hash"}};
constexpr Named<ServingState> kServingStates[] = {{ServingState::Active, "active"},
                                                  {ServingState::Draining, "draining"},
                                                  {ServingState::Disabled, "disabled"}};
constexpr Named<ProbeType> kProbeTypes[] = {
    {ProbeType::Tcp, "tcp"}, {ProbeType::Http, "http"}, {ProbeType::Grpc, "grpc"}};

/// The value named `name`; InvalidInput "unknown <what> '<name>' (use a, b or c)" otherwise.
template <typename E, std::size_t N>
E parseNamed(const Named<E> (&names)[N], const std::string& name, const std::string& what) {
  static_assert(N >= 2, "a choice of one is no choice");
  std::string choices;
  for (std::size_t i = 0; i < N; ++i) {
    if (name == names[i].name) return names[i].value;
    choices += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(names[i].name);
  }
  throw InvalidInput("unknown " + what + " '" + printable(name, 64) + "' (use " + choices + ")");
}

/// The name of `value`; the first (the default) for a value outside the table.
template <typename E, std::size_t N>
std::string nameOf(const Named<E> (&names)[N], E value) {
  for (const auto& n : names)
    if (n.value == value) return n.name;
  assert(false && "an enum value missing from its name table");
  return names[0].name;
}

}  // namespace

BalancerKind parseBalancer(const std::string& name) {
  return parseNamed(kBalancers, name, "balancer");
}

std::string toString(BalancerKind kind) {
  return nameOf(kBalancers, kind);
}

ServingState parseServingState(const std::string& name) {
  return parseNamed(kServingStates, name, "target state");
}

std::string toString(ServingState state) {
  return nameOf(kServingStates, state);
}

ProbeType parseProbeType(const std::string& name) {
  return parseNamed(kProbeTypes, name, "health check type");
}

std::string toString(ProbeType type) {
  return nameOf(kProbeTypes, type);
}

bool HealthSpec::operator==(const HealthSpec& o) const {
  return interval == o.interval && timeout == o.timeout && type == o.type && path == o.path &&
         grpcService == o.grpcService && fall == o.fall && rise == o.rise &&
         slowStart == o.slowStart;
}

bool TargetSpec::operator==(const TargetSpec& o) const {
  return url == o.url && weight == o.weight && maxConnections == o.maxConnections &&
         state == o.state;
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
  validateGrpcService(grpcService);
}

void HealthSpec::validateGrpcService(const std::string& name) {
  // A protobuf full name (package.Service): it travels in a protobuf string and in logs, so
  // nothing but the characters such names are made of.
  if (name.size() > 256) throw InvalidInput("health grpcService is longer than 256 characters");
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && c != '_' && c != '.')
      throw InvalidInput("health grpcService '" + printable(name, 64) +
                         "' may hold only letters, digits, '_' and '.'");
  }
}

}  // namespace portico
