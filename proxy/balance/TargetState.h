#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "balance/IdlePool.h"
#include "balance/LazyArray.h"
#include "model/Normalize.h"
#include "net/IntrusiveList.h"
#include "net/Socket.h"
#include "net/Tls.h"
#include "observe/ProxyMetrics.h"

namespace portico {

/// One event loop's idle keep-alive connections to a target.
struct IdleConnections {
  net::IntrusiveList list;  // least recently used first
  std::size_t count{0};
  // The loop's last resumable TLS session with an https target: the next connection resumes it
  // (an abbreviated handshake, no certificate chain sent or verified again).
  net::SslSessionPtr tlsSession;
};

/// Runtime state of one target that outlives snapshot swaps: the proxy keeps one per
/// (route prefix, target URL) and hands the same object to every snapshot that has the target.
struct TargetState {
  /// `loops`: how many event loops keep idle connections to the target (0 when only the
  /// module's blocking handler serves it).
  /// With event loops the target's name is resolved here, off the loops, which then connect
  /// without a DNS lookup (a slow resolver must not stall every connection of a loop).
  explicit TargetState(TargetUrl u, std::size_t loops = 0)
      : url(std::move(u)),
        authority(url.authority()),
        addresses(loops > 0 ? net::resolveTcp(url.host, url.port, resolveError)
                            : std::vector<net::SocketAddress>()),
        pool(loops == 0 ? std::make_unique<IdlePool>() : nullptr),
        loopCount(loops) {}
  TargetState(const TargetState&) = delete;
  TargetState& operator=(const TargetState&) = delete;

  const TargetUrl url;
  const std::string authority;  // "host:port", for X-Origin-Host on every request
  // Why `addresses` is empty: the name did not resolve when the table was built (the next
  // table built from the store tries again).
  std::string resolveError;
  const std::vector<net::SocketAddress> addresses;
  std::atomic<int> inFlight{0};  // requests this proxy has open to the target
  // steady-clock ms; passive cooldown after a refused connect
  std::atomic<std::int64_t> avoidUntilMs{0};
  // At most this many requests in flight to it from this proxy (nginx max_conns); 0: no limit.
  // Set from the store with each table (the balancer's filter skips a target at its limit).
  std::atomic<int> maxConnections{0};
  // Outlier detection (route policy outlierDetection): failures in a row, how often it has been
  // ejected, and until when (steady-clock ms; 0: in rotation).
  std::atomic<int> consecutiveErrors{0};
  std::atomic<int> ejections{0};
  std::atomic<std::int64_t> ejectedUntilMs{0};
  // When its last ejection ends (steady-clock ms; 0: never ejected): slow start ramps from here.
  std::atomic<std::int64_t> returnedAtMs{0};
  // The target left the configuration: its idle connections close, used ones are not kept.
  std::atomic<bool> retired{false};
  // The idle keep-alive connections of the module's blocking handler: only without event loops
  // (a mutex and a vector per target that the loops never use).
  const std::unique_ptr<IdlePool> pool;
  const std::size_t loopCount;
  /// Event loop `loop`'s idle keep-alive connections to the target, or null while no loop has
  /// kept one (nor a TLS session). Each loop touches only its own, so taking and giving back a
  /// connection takes no lock.
  IdleConnections* idleIn(std::size_t loop) const {
    assert(loop < loopCount);
    IdleConnections* lists = idle_.peek();
    return lists ? &lists[loop] : nullptr;
  }
  /// The same, made for every loop at the first use: most targets of a large table never
  /// carry a request, and the lists cost ~40 bytes per loop (issue 22: 1 KB per target).
  IdleConnections& idleFor(std::size_t loop) {
    assert(loop < loopCount);
    return idle_.get(loopCount)[loop];
  }
  /// How many connections the `idle` lists hold, all loops together (read by the metrics).
  std::atomic<int> idleConnections{0};
  /// Its counters (labels route, target); null when the table was built without metrics.
  std::unique_ptr<ProxyMetrics::TargetHandle> metrics;

 private:
  LazyArray<IdleConnections> idle_;  // loopCount lists, made by idleFor()
};

}  // namespace portico
