#pragma once

#include <chrono>

namespace portico {

/// Timeouts of every upstream connection (`proxy.connect_timeout`, `proxy.read_timeout`).
struct UpstreamTimeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds read{30000};
};

}  // namespace portico
