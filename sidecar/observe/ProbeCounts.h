#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace portico {

/// One target's probes run so far, by result: the values of portico_health_checks_total.
struct ProbeCount {
  std::uint64_t success{0};
  std::uint64_t failure{0};

  void add(bool ok) { ++(ok ? success : failure); }
  bool empty() const { return success == 0 && failure == 0; }
};

/// Where the counts of portico_health_checks_total are kept: with each target's place in the
/// health schedule (16 bytes a target), not as metrics series (about 300 bytes each: label
/// strings, a map node, a cell in every shard). Read at scrape time.
class ProbeCountSource {
 public:
  /// One series' labels and counts; the same labels may come more than once (a target removed
  /// and added again), and are then summed.
  using Visit = std::function<void(const std::string& route, const std::string& host,
                                   const std::string& target, const ProbeCount& count)>;
  virtual ~ProbeCountSource() = default;
  /// Calls `visit` for every target probed at least once since the process started (from the
  /// scraping thread).
  virtual void visitProbeCounts(const Visit& visit) const = 0;
};

}  // namespace portico
