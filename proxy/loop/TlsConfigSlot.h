#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "net/Tls.h"

namespace portico {

/// The TLS listener's certificates, replaced as a whole when SIGHUP re-reads them: a loop keeps
/// its own copy and takes the lock only when the version moved, so accepting a TLS client takes
/// no shared lock. Connections keep the certificates they started with.
class TlsConfigSlot {
 public:
  explicit TlsConfigSlot(std::shared_ptr<const net::TlsServerConfig> config)
      : config_(std::move(config)) {}

  void publish(std::shared_ptr<const net::TlsServerConfig> config) {
    std::lock_guard<std::mutex> lock(mutex_);
    config_ = std::move(config);
    version_.fetch_add(1, std::memory_order_release);
  }
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const net::TlsServerConfig> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return config_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const net::TlsServerConfig> config_;
  std::atomic<std::uint64_t> version_{1};
};

}  // namespace portico
