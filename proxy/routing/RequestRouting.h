#pragma once

#include <string>
#include <string_view>

#include "routing/RouteTable.h"

namespace portico {

/// Which route serves a request, decided the same way for HTTP/1.1, HTTP/2 and the module: "."
/// and ".." segments are resolved first, as nginx does, so "/api/../admin" cannot reach the
/// /api/ targets as "/../admin" (which their servers would resolve above the route); the host
/// is the absolute-form target's authority, else the Host header (HTTP/2: :authority), as
/// RequestHost normalises it.
struct RequestRouting {
  const Route* route{nullptr};
  /// The target with dot segments resolved; empty when it had none (use the target as is).
  std::string resolved;
  /// No route: the status and message to answer (400 for a path above the root, 404 "no route
  /// for api.example.com/x", the host named only when some route of the table has one).
  int status{0};
  std::string message;

  /// `host`: the Host header's value as received ("" when there is none: only any-host routes
  /// can match).
  static RequestRouting of(const RouteTable& table, std::string_view target,
                           std::string_view host = {});
};

}  // namespace portico
