#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portico {

/// What a proxy reports about itself in its row of the `proxies` table (Store::reportProxy):
/// who it is, where it listens, and the revision it serves. The store stamps the row with its
/// own clock (last seen, and when the revision was first reported).
struct ProxyReport {
  std::string id;                       // proxy.id
  std::vector<std::string> addresses;   // "host:port" of each listener
  std::string version;                  // the binary's version
  std::int64_t startedAtMs{0};          // the process's start, on its own clock
  std::int64_t revision{-1};            // the revision of the table it serves
  std::int64_t heartbeatMs{2000};       // proxy.heartbeat_interval
  std::int64_t forgetAfterMs{3600000};  // rows unseen this long are deleted
  /// The proxy is stopping: its row is written as last seen three beats ago (stale at once), so
  /// writes stop waiting for it while it drains.
  bool leaving{false};
};

/// One row of the `proxies` table as the sidecar reads it. Times are milliseconds since the
/// Unix epoch, on the store's clock except `startedAtMs`.
struct ProxyRecord {
  std::string id;
  std::vector<std::string> addresses;
  std::string version;
  std::int64_t startedAtMs{0};
  std::int64_t revision{0};
  std::int64_t appliedAtMs{0};
  std::int64_t lastSeenMs{0};
  std::int64_t heartbeatMs{0};
  /// When the store moved past `revision` (the time of the first change after it): how long
  /// the proxy has been behind. None while it serves the store's revision, or when the history
  /// no longer holds that change.
  std::optional<std::int64_t> behindSinceMs;
};

/// Every proxy's row with the store's revision and clock, read in one snapshot.
struct ProxyRoster {
  std::int64_t revision{0};
  std::int64_t nowMs{0};
  std::vector<ProxyRecord> proxies;  // by id
};

}  // namespace portico
