#pragma once

#include <chrono>
#include <memory>

#include "forward/TrustedProxies.h"
#include "forward/UpstreamTimeouts.h"
#include "net/Tls.h"
#include "observe/AccessLog.h"
#include "observe/ProxyMetrics.h"

namespace portico {

/// What every forwarded request shares, fixed for the life of a ProxyModule.
struct ProxyContext {
  UpstreamTimeouts timeouts;
  TrustedProxies trusted;
  std::unique_ptr<AccessLog> accessLog;
  /// Where requests are counted; null counts nothing.
  ProxyMetrics* metrics{nullptr};
  /// How long a target that refused a connection is passed over (unless nothing else is left).
  std::chrono::milliseconds cooldown{2000};
  /// At most this many targets are tried for one request when connections fail.
  std::size_t maxAttempts{8};
  /// The largest request body kept for a replay under a route's retries policy
  /// (proxy.retry_buffer).
  std::size_t retryBuffer{64 * 1024};
  /// How https targets are spoken to (upstream_tls.*); one OpenSSL context for the process.
  std::shared_ptr<const net::TlsClientConfig> upstreamTls{};
  /// The share (0 to 1) of traces the proxy starts that it flags sampled (proxy.trace_sample).
  double traceSample{0};
};

}  // namespace portico
