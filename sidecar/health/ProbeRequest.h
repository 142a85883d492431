#pragma once

#include <string>

#include "health/Probe.h"
#include "model/Model.h"
#include "model/Normalize.h"

namespace portico {

/// What an http probe sends and how it reads the answer, and the failure wordings operators see
/// in lastError: the logic of a probe, apart from its I/O.
class ProbeRequest {
 public:
  /// The request path: the target's base path joined to the route's health path.
  static std::string path(const TargetUrl& target, const HealthSpec& spec);
  /// The whole request: `GET <path> HTTP/1.1`, Host, a User-Agent and Connection: close (the
  /// probe reads the status line and resets) unless `keepAlive` (the connection is kept for the
  /// next probe: HTTP/1.1's default, no Connection header). Host is the route's host when it
  /// names one site (exact, not a wildcard), as the requests the proxy forwards there carry it
  /// (preserveHost, today's only behaviour); else the target's authority.
  static std::string text(const TargetUrl& target, const HealthSpec& spec,
                          const std::string& routeHost = "", bool keepAlive = false);
  /// The Host an http probe of `target` on a route of `routeHost` sends.
  static std::string host(const TargetUrl& target, const std::string& routeHost);
  /// Healthy for 2xx/3xx; "http: status 503" otherwise.
  static ProbeResult verdict(int status);
  /// "timeout after 3s": the route's timeout, as configured.
  static ProbeResult timedOut(const HealthSpec& spec);
};

}  // namespace portico
