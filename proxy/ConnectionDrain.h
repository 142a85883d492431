#pragma once

#include <atomic>

namespace portico {

/// Lets waiting connections in when every thread holds one: the server hands out "drain
/// tokens" while connections queue; a connection that takes one ends after its current response
/// (with `Connection: close`, which clients handle gracefully) or, when idle, closes, and gives
/// its thread to the queue. This is nginx's reuse of idle keep-alive connections, for a server
/// with a thread per connection.
class ConnectionDrain {
 public:
  /// Offers `tokens` until the next offer replaces them (unused ones expire).
  void offer(int tokens) { tokens_.store(tokens, std::memory_order_relaxed); }
  /// True when this connection should give up its thread.
  bool take() {
    int t = tokens_.load(std::memory_order_relaxed);
    while (t > 0)
      if (tokens_.compare_exchange_weak(t, t - 1, std::memory_order_relaxed)) return true;
    return false;
  }

 private:
  std::atomic<int> tokens_{0};
};

}  // namespace portico
