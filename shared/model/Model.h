#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/RouteKey.h"
#include "model/RoutePolicies.h"

namespace portico {

/// How a route spreads requests over its healthy targets.
enum class BalancerKind { RoundRobin, LeastConn, IpHash };

/// "round_robin", "least_conn", "ip_hash"; parse throws InvalidInput naming the choices.
BalancerKind parseBalancer(const std::string& name);
std::string toString(BalancerKind kind);

/// Whether a target takes traffic: `active` (the default), `draining` (no new requests; those in
/// flight finish and health checks go on) or `disabled` (no requests, no health checks, kept in
/// the store).
enum class ServingState { Active, Draining, Disabled };
/// "active", "draining", "disabled"; parse throws InvalidInput naming the choices.
ServingState parseServingState(const std::string& name);
std::string toString(ServingState state);

/// A target's weight: its share of a route's new requests relative to the others (0 = none).
constexpr int kDefaultWeight = 100;
constexpr int kMaxWeight = 1000;

/// What an active health probe does: a TCP connect, an HTTP GET expecting 2xx/3xx, or a gRPC
/// `grpc.health.v1.Health/Check` expecting SERVING.
enum class ProbeType { Tcp, Http, Grpc };
ProbeType parseProbeType(const std::string& name);
std::string toString(ProbeType type);

/// A route's active health-check settings.
struct HealthSpec {
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{3000};
  ProbeType type{ProbeType::Tcp};
  std::string path{"/"};
  /// The service a grpc check asks about ("" = the server as a whole, as grpc_health_probe).
  std::string grpcService;
  int fall{1};
  int rise{1};
  /// A target that turns healthy, is added or is re-enabled ramps its effective weight from
  /// 10 % to 100 % over this window; 0 is off. Kept with the health settings because that is
  /// where clients give it (`healthCheck.slowStart`).
  std::chrono::milliseconds slowStart{0};

  /// Throws InvalidInput when a value is out of range (naming the field).
  void validate() const;
  /// Throws InvalidInput unless `name` may be a grpc check's service (a protobuf full name).
  static void validateGrpcService(const std::string& name);
  bool operator==(const HealthSpec& o) const;
};

/// The largest maxConnections of a target.
constexpr int kMaxTargetConnections = 1000000;

/// One backend of a route as stored, with its last health verdict.
struct TargetRecord {
  std::int64_t id{};
  std::string url;
  bool healthy{true};
  std::string lastCheckedAt;  // ISO-8601 UTC, empty if never checked
  std::string lastChangedAt;  // when `healthy` last flipped, empty if never
  std::string lastError;
  int weight{kDefaultWeight};
  ServingState state{ServingState::Active};
  std::string servingSince;  // when it last became able to take traffic (slow start counts from it)
  std::string modifiedAt;    // when anything about it last changed (added, weight, state, verdict)
  std::string checkedBy;     // the sidecar holding its health-check lease; empty when none
  int maxConnections{0};     // requests in flight to it from one proxy at most; 0: no limit
};

/// A target to add: its canonical URL and weight.
struct TargetSpec {
  TargetSpec(std::string u, int w = kDefaultWeight) : url(std::move(u)), weight(w) {}
  TargetSpec(const char* u) : url(u) {}
  std::string url;
  int weight{kDefaultWeight};
  int maxConnections{0};  // 0: no limit
  /// The state it is added in: only a whole configuration (PUT /endpoints/config) gives another.
  ServingState state{ServingState::Active};
  bool operator==(const TargetSpec& o) const;
};

/// A change to one target (PATCH): the fields given.
struct TargetUpdate {
  std::optional<int> weight;
  std::optional<ServingState> state;
  std::optional<int> maxConnections;
};

/// A route as stored: its host ("" for any host) and normalised prefix, its balancer, health
/// settings, policies and targets.
struct RouteRecord {
  std::int64_t id{};
  std::string host;
  std::string prefix;
  BalancerKind balancer{BalancerKind::RoundRobin};
  HealthSpec health;
  RoutePolicies policies;
  std::vector<TargetRecord> targets;  // ordered by id (insertion order)

  RouteKey key() const { return {host, prefix}; }
};

/// A route to create: from the configuration seed or from the admin API.
struct RouteSpec {
  std::string host;    // "" for any host
  std::string prefix;  // normalised
  BalancerKind balancer{BalancerKind::RoundRobin};
  HealthSpec health;
  RoutePolicies policies;
  std::vector<TargetSpec> targets;  // canonical target URLs with their weights

  RouteKey key() const { return {host, prefix}; }
};

/// One row of the change history: a change the store committed, who made it, and what it
/// changed (before/after as JSON text, empty when there is none).
struct ChangeRecord {
  std::int64_t revision{};
  std::string time;    // ISO-8601 UTC
  std::string actor;   // "api", "config" or "health"
  std::string client;  // the API client's address (actor "api"); empty otherwise
  std::string action;  // route.create, route.delete, route.health_check, target.add, ...
  std::string route;   // the route's prefix
  std::string host;    // the route's host ("" for any host)
  std::string target;  // the target's URL; empty for a change of the route itself
  std::string before;
  std::string after;
  std::int64_t revertOf{-1};  // the revision a revert made this row to go back to; -1: none
};

/// Which history rows to read: those after revision `since`, oldest first.
struct ChangeQuery {
  std::int64_t since{0};
  int limit{100};
  std::string route;   // normalised prefix; empty = every route
  std::string host;    // with `route`: the route's host ("" = the any-host route)
  std::string target;  // canonical URL; empty = every target
};

/// What changed after a revision, for followers that patch what they hold (the proxy's table,
/// the health schedule) instead of re-reading everything.
struct RouteChanges {
  std::int64_t revision{0};  // the store's revision this read saw
  /// False when the history no longer reaches back to the revision asked about (trimmed, or the
  /// store was replaced): `routes` then holds every route, to be taken whole.
  bool complete{true};
  std::vector<RouteRecord> routes;  // the routes a change touched, as stored now (prefix order)
  std::vector<RouteKey> removed;    // the routes a change touched that are stored no more
};

/// The stored routes with every history row after revision `since`, read in one snapshot: what
/// a revert walks back from (POST /endpoints/revert).
struct HistoryAfter {
  std::int64_t revision{0};           // the store's revision this read saw
  std::vector<RouteRecord> routes;    // as stored at `revision`
  std::vector<ChangeRecord> changes;  // every row after `since`, oldest first
  /// False when store.history_limit trimmed rows after `since` (or the store never had them).
  bool complete{true};
  std::int64_t oldest{-1};  // the oldest revision the history keeps; -1 when it is empty
};

/// A page of history: `nextSince` is the `since` of the next page (a page never splits the rows
/// of one revision, so following it misses and repeats nothing).
struct ChangePage {
  std::vector<ChangeRecord> changes;
  std::int64_t nextSince{0};
};

}  // namespace portico
