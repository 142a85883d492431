#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "health/HealthSchedule.h"
#include "health/Probe.h"

namespace portico {

/// tcp checks of targets that share an address share its connect. A tcp check asks one thing
/// of a target, whether host:port takes connections, and the answer is the same for every
/// target there (one backend behind many routes, paths that differ): a probe due while another
/// to the same address is in flight waits for its answer, and one due within `window` (never
/// half its own interval or more, so a target's next probe always asks again) after an answer
/// takes it. So 50,000 targets on a few backends cost a few connects a second, not
/// 10,000 handshakes (both ends charged to this host on loopback). http and gRPC checks ask for
/// a path or a service and are never shared. Pure logic: one probe loop owns one, on its thread.
class TcpProbeShare {
 public:
  explicit TcpProbeShare(std::chrono::milliseconds window) : window_(window.count()) {}

  /// Whether `job` can be answered without a connect of its own.
  enum class Admit {
    Probe,   // connect: nobody is asking the address now (the job stays with the caller)
    Joined,  // a probe to the address is in flight: the job waits for it (moved in here)
    Fresh,   // an answer younger than the window: `answer` holds it (the job stays)
  };
  /// `nowMs`: the loop's clock. A job that is not a tcp check is always Probe.
  Admit admit(HealthJob& job, std::int64_t nowMs, ProbeResult& answer);

  /// The probe admitted for `job`'s address answered `result`: remembered for the window (a
  /// local failure, which says nothing of the address, is not), and the jobs that joined it,
  /// which take the same answer, are handed back.
  std::vector<HealthJob> answered(const HealthJob& job, const ProbeResult& result,
                                  std::int64_t nowMs);

  /// Forgets answers older than the window (bounded memory when targets come and go).
  void prune(std::int64_t nowMs);
  std::size_t size() const { return byAddress_.size(); }

  static bool shareable(const HealthJob& job) { return job.spec.type == ProbeType::Tcp; }
  static std::string addressOf(const HealthJob& job);

 private:
  struct Entry {
    bool inFlight{false};
    bool hasAnswer{false};
    std::int64_t answeredAtMs{0};
    ProbeResult answer;
    std::vector<HealthJob> waiting;
  };
  const std::int64_t window_;
  std::unordered_map<std::string, Entry> byAddress_;
};

}  // namespace portico
