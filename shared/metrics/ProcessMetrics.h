#pragma once

#include <string>

#include "metrics/Exposition.h"

namespace portico::metrics {

/// The process_* metrics every Prometheus client library exports, read from /proc at scrape
/// time: process_cpu_seconds_total, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds.
class ProcessMetrics {
 public:
  /// `procSelf` is the process's /proc directory (a test may point it at a fixture).
  explicit ProcessMetrics(std::string procSelf = "/proc/self", std::string procStat = "/proc/stat");

  /// Writes the families; a file that cannot be read leaves its metric out.
  void collect(Exposition& out) const;

 private:
  std::string self_;
  std::string stat_;
};

}  // namespace portico::metrics
