#include "health/TcpProbeShare.h"

#include <algorithm>

namespace portico {

std::string TcpProbeShare::addressOf(const HealthJob& job) {
  return job.target.host + ":" + std::to_string(job.target.port);
}

TcpProbeShare::Admit TcpProbeShare::admit(HealthJob& job, std::int64_t nowMs, ProbeResult& answer) {
  if (!shareable(job)) return Admit::Probe;
  Entry& entry = byAddress_[addressOf(job)];
  if (entry.inFlight) {
    entry.waiting.push_back(std::move(job));
    return Admit::Joined;
  }
  // Never as long as half the job's own interval: a target's next probe asks again.
  const std::int64_t window = std::min<std::int64_t>(window_, job.spec.interval.count() / 2);
  if (entry.hasAnswer && nowMs - entry.answeredAtMs < window) {
    answer = entry.answer;
    return Admit::Fresh;
  }
  entry.inFlight = true;
  return Admit::Probe;
}

std::vector<HealthJob> TcpProbeShare::answered(const HealthJob& job, const ProbeResult& result,
                                               std::int64_t nowMs) {
  if (!shareable(job)) return {};
  const auto it = byAddress_.find(addressOf(job));
  if (it == byAddress_.end() || !it->second.inFlight) return {};
  Entry& entry = it->second;
  entry.inFlight = false;
  if (!result.local) {
    entry.hasAnswer = true;
    entry.answeredAtMs = nowMs;
    entry.answer = result;
  }
  std::vector<HealthJob> waiting;
  waiting.swap(entry.waiting);
  return waiting;
}

void TcpProbeShare::prune(std::int64_t nowMs) {
  for (auto it = byAddress_.begin(); it != byAddress_.end();) {
    const Entry& e = it->second;
    if (!e.inFlight && nowMs - e.answeredAtMs >= window_) {
      it = byAddress_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace portico
