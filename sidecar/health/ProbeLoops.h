#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "health/ProbeRunner.h"

namespace portico::net {
class TlsClientConfig;
}

namespace portico {

/// The production ProbeRunner: a small fixed set of event loops (one thread each) on which
/// every probe is a non-blocking ProbeConnection, so 50,000 targets take as many threads as
/// 5. Jobs are spread over the loops by target (a target's probes always run on one loop);
/// each loop hands its finished probes to the sink once per turn, as one batch. Each loop keeps
/// the connections of http probes the target kept alive, one per target, for the target's next
/// probe (ProbeKeepAlive decides, within the loop's share of `keepAliveMax`).
class ProbeLoops : public ProbeRunner {
 public:
  /// `tls`: how https targets are spoken to by http checks (may be null: they fail);
  /// `keepAliveMax`: connections kept open between http probes, over all loops (0: none).
  explicit ProbeLoops(std::size_t loops = 1,
                      std::shared_ptr<const net::TlsClientConfig> tls = nullptr,
                      std::size_t keepAliveMax = 0);
  ~ProbeLoops() override;
  ProbeLoops(const ProbeLoops&) = delete;
  ProbeLoops& operator=(const ProbeLoops&) = delete;

  void start(ProbeSink& sink) override;
  void run(std::vector<HealthJob> jobs) override;
  void stop() override;

  /// Probes in flight now, summed over the loops (for tests and metrics).
  std::size_t inFlight() const;
  /// Probe connections counted as kept (open for reuse or in use), as of each loop's last turn.
  std::size_t kept() const;

 private:
  class Loop;

  const std::size_t count_;
  std::shared_ptr<const net::TlsClientConfig> tls_;
  const std::size_t keepAliveMax_;
  mutable std::mutex mutex_;  // start/stop against run()
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace portico
