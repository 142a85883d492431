#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace portico {

class PooledConnection;

/// The idle blocking keep-alive connections to one target (the mounted module's), shared by every
/// request thread (a short lock around a vector). Most recently used first: the connection least
/// likely to have been closed by the backend's keep-alive timeout.
class IdlePool {
 public:
  static constexpr std::size_t kMaxIdle = 1024;
  static constexpr std::chrono::seconds kMaxIdleTime{8};

  IdlePool();
  ~IdlePool();
  IdlePool(const IdlePool&) = delete;
  IdlePool& operator=(const IdlePool&) = delete;

  /// An idle connection that still looks usable, or null. Stale ones are closed on the way.
  std::unique_ptr<PooledConnection> take();
  /// Keeps a connection whose last exchange completed cleanly; closes it when the pool is
  /// full or retired.
  void give(std::unique_ptr<PooledConnection> connection);
  /// The target left the configuration: close the idle connections and keep no more.
  void retire();
  /// Closes idle connections older than kMaxIdleTime (the backend has likely closed them).
  void prune();
  std::size_t idleCount();

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  bool retired_{false};
};

}  // namespace portico
