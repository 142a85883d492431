#pragma once

#include <utility>

#include "observe/ProxyMetrics.h"

namespace portico {

/// A client connection's share of the metrics' open-connections gauge: counted when made,
/// uncounted when destroyed. It moves with the connection from one owner to the next (a TLS
/// handshake to the HTTP/1.1 connection it becomes), so a connection is counted once however
/// many objects serve it in turn.
class ConnectionCount {
 public:
  /// `metrics` null counts nothing.
  explicit ConnectionCount(ProxyMetrics* metrics) : metrics_(metrics) {
    if (metrics_) metrics_->clientConnectionOpened(metrics_->threadShard());
  }
  ~ConnectionCount() {
    if (metrics_) metrics_->clientConnectionClosed(metrics_->threadShard());
  }
  ConnectionCount(ConnectionCount&& other) noexcept
      : metrics_(std::exchange(other.metrics_, nullptr)) {}
  ConnectionCount(const ConnectionCount&) = delete;
  ConnectionCount& operator=(const ConnectionCount&) = delete;
  ConnectionCount& operator=(ConnectionCount&&) = delete;

 private:
  ProxyMetrics* metrics_;
};

}  // namespace portico
