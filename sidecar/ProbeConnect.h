#pragma once

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <optional>
#include <string>

#include "Probe.h"

namespace portico {

/// The connect step both probe kinds share, with the error wording operators see.
class ProbeConnect {
 public:
  /// Connects `socket` to the target before `deadline`; returns the failure if it did not.
  static std::optional<ProbeResult> open(Poco::Net::StreamSocket& socket, const TargetUrl& target,
                                         const HealthSpec& spec,
                                         std::chrono::steady_clock::time_point deadline);
  /// "timeout after 3s": the route's timeout, as configured.
  static ProbeResult timedOut(const HealthSpec& spec);
  /// Closes with RST (linger 0): a checker opening thousands of connections a second must not
  /// leave them in TIME_WAIT.
  static void abort(Poco::Net::StreamSocket& socket);
  /// Time left until `deadline` as a Poco timespan; nullopt when none is left.
  static std::optional<long long> remainingMicros(std::chrono::steady_clock::time_point deadline);
};

}  // namespace portico
