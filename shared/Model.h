#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace portico {

/// How a route spreads requests over its healthy targets.
enum class BalancerKind { RoundRobin, LeastConn, IpHash };

/// "round_robin", "least_conn", "ip_hash"; parse throws InvalidInput naming the choices.
BalancerKind parseBalancer(const std::string& name);
std::string toString(BalancerKind kind);

/// What an active health probe does: a TCP connect, or an HTTP GET expecting 2xx/3xx.
enum class ProbeType { Tcp, Http };
ProbeType parseProbeType(const std::string& name);
std::string toString(ProbeType type);

/// A route's active health-check settings.
struct HealthSpec {
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{3000};
  ProbeType type{ProbeType::Tcp};
  std::string path{"/"};
  int fall{1};
  int rise{1};

  /// Throws InvalidInput when a value is out of range (naming the field).
  void validate() const;
  bool operator==(const HealthSpec& o) const {
    return interval == o.interval && timeout == o.timeout && type == o.type && path == o.path &&
           fall == o.fall && rise == o.rise;
  }
};

/// One backend of a route as stored, with its last health verdict.
struct TargetRecord {
  std::int64_t id{};
  std::string url;
  bool healthy{true};
  std::string lastCheckedAt;  // ISO-8601 UTC, empty if never checked
  std::string lastChangedAt;  // when `healthy` last flipped, empty if never
  std::string lastError;
};

/// A route as stored: a normalised prefix, its balancer, health settings and targets.
struct RouteRecord {
  std::int64_t id{};
  std::string prefix;
  BalancerKind balancer{BalancerKind::RoundRobin};
  HealthSpec health;
  std::vector<TargetRecord> targets;  // ordered by id (insertion order)
};

/// A route to create: from the configuration seed or from the admin API.
struct RouteSpec {
  std::string prefix;  // normalised
  BalancerKind balancer{BalancerKind::RoundRobin};
  HealthSpec health;
  std::vector<std::string> targets;  // canonical target URLs
};

}  // namespace portico
