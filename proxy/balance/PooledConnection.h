#pragma once

#include <chrono>

namespace portico {

/// A blocking keep-alive connection as an IdlePool keeps it: when it was handed back, whether it
/// came from the pool, and whether it still looks usable. The mounted module's
/// UpstreamConnection is one; the pool needs no more of it.
class PooledConnection {
 public:
  virtual ~PooledConnection() = default;

  /// True when the connection came from the pool (it may have been closed by the backend).
  bool reused() const { return reused_; }
  void markReused() { reused_ = true; }
  /// When it was last handed back to the pool.
  std::chrono::steady_clock::time_point idleSince() const { return idleSince_; }
  void markIdle() { idleSince_ = std::chrono::steady_clock::now(); }
  /// True when an idle connection looks unusable: the backend closed it or sent something.
  virtual bool looksStale() = 0;

 private:
  bool reused_{false};
  std::chrono::steady_clock::time_point idleSince_{};
};

}  // namespace portico
