#pragma once

#include <Poco/Net/HTTPClientSession.h>

#include <chrono>

#include "Normalize.h"

namespace portico {

/// Timeouts of every upstream connection (`proxy.connect_timeout`, `proxy.read_timeout`).
struct UpstreamTimeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds read{30000};
};

/// One keep-alive HTTP/1.1 connection to a target. Connecting is a separate step so that a
/// refused or timed-out connect (nothing sent, safe to try another target) is told apart from a
/// failure after the request started.
class UpstreamConnection : public Poco::Net::HTTPClientSession {
 public:
  UpstreamConnection(const TargetUrl& url, const UpstreamTimeouts& timeouts);

  /// Connects now; throws the POCO network exception (refused, timeout, unknown host...).
  void open();

  /// True when the connection came from the pool (it may have been closed by the backend).
  bool reused() const { return reused_; }
  void markReused() { reused_ = true; }

  /// When it was last handed back to the pool.
  std::chrono::steady_clock::time_point idleSince() const { return idleSince_; }
  void markIdle() { idleSince_ = std::chrono::steady_clock::now(); }

  /// True when an idle connection looks unusable: the backend closed it or sent something.
  bool looksStale();

 private:
  bool reused_{false};
  std::chrono::steady_clock::time_point idleSince_{};
};

}  // namespace portico
