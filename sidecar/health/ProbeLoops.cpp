#include "health/ProbeLoops.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <map>
#include <unordered_map>

#include "base/Log.h"
#include "health/ProbeConnection.h"
#include "health/ProbeKeepAlive.h"
#include "health/TcpProbeShare.h"
#include "net/EventLoop.h"
#include "net/TimerList.h"
#include "net/Tls.h"

namespace portico {
namespace {

/// How long a tcp check's answer stands for the other targets at its address (TcpProbeShare):
/// short against any interval, long enough that 10,000 probes a second to a few backends
/// make a few connects.
constexpr std::chrono::milliseconds kTcpShareWindow{1000};

}  // namespace

/// One event loop and the probes on it. Touched only on its thread, except for the counter.
class ProbeLoops::Loop final : public ProbeDone {
 public:
  Loop(ProbeSink& sink, const net::TlsClientConfig* tls, std::size_t keepAliveMax)
      : sink_(sink), tls_(tls), keepAlive_(keepAliveMax) {
    loop_.setBatchEnd([this] { endBatch(); });
  }
  ~Loop() override {
    // The thread has returned: close what is still open without outcomes.
    for (auto& [probe, owned] : live_) owned->cancel();
    loop_.releaseClosed();
  }

  net::EventLoop& loop() { return loop_; }
  std::size_t inFlight() const { return inFlight_.load(std::memory_order_relaxed); }
  std::size_t kept() const { return keptCount_.load(std::memory_order_relaxed); }

  /// On the loop's thread.
  void startJobs(std::vector<HealthJob>& jobs) {
    for (auto& job : jobs) {
      ProbeResult answer;
      const auto admitted = share_.admit(job, loop_.now(), answer);
      if (admitted == TcpProbeShare::Admit::Joined) continue;  // answered with the probe
      if (admitted == TcpProbeShare::Admit::Fresh) {
        outcomes_.push_back(ProbeOutcome{std::move(job), std::move(answer), 0.0});
        continue;  // handed over at the batch's end, as a refused connect is
      }
      auto& timeouts = timeoutList(job.spec.timeout.count());
      inFlight_.fetch_add(1, std::memory_order_relaxed);
      if (ProbeConnection* held = takeKept(job)) {
        guarded(*held, [&] { held->reuse(std::move(job), timeouts); });
        continue;
      }
      const bool keepAlive = job.spec.type == ProbeType::Http && keepAlive_.claim();
      auto probe = std::make_unique<ProbeConnection>(loop_, *this, std::move(job));
      ProbeConnection& started = *probe;
      live_.emplace(&started, std::move(probe));
      guarded(started, [&] { started.start(timeouts, tls_, keepAlive); });
    }
    // A refused connect finishes inside start(): its outcome goes with this batch.
  }

  void finished(ProbeConnection& probe, ProbeResult result) override {
    const double seconds = static_cast<double>(loop_.refreshNow() - probe.startedMs()) / 1000.0;
    for (auto& joined : share_.answered(probe.job(), result, loop_.now()))
      outcomes_.push_back(ProbeOutcome{std::move(joined), result, seconds});
    outcomes_.push_back(ProbeOutcome{probe.job(), std::move(result), seconds});
    ++finished_;
    if (probe.kept()) {
      const auto limit = ProbeKeepAlive::idleLimit(probe.job().spec);
      if (probe.parkIn(timeoutList(limit.count()))) {
        kept_[probe.job().targetId] = &probe;
        return;
      }
      probe.cancel();
    }
    release(probe);
  }

  void idleClosed(ProbeConnection& probe) override {
    const auto it = kept_.find(probe.job().targetId);
    if (it != kept_.end() && it->second == &probe) kept_.erase(it);
    release(probe);
  }

 private:
  net::TimerList& timeoutList(std::int64_t ms) {
    auto it = timeouts_.find(ms);
    if (it != timeouts_.end()) return *it->second;
    // Routes share a few timeouts, so a list per distinct value keeps arming O(1); lists are
    // kept for the loop's life (there are as many as distinct timeouts ever configured).
    auto list = std::make_unique<net::TimerList>(ms);
    loop_.watch(*list);
    return *timeouts_.emplace(ms, std::move(list)).first->second;
  }

  /// Runs `run` (a probe's start); out of memory building the request, this probe fails, not
  /// the loop.
  template <typename Run>
  void guarded(ProbeConnection& probe, Run&& run) {
    try {
      run();
    } catch (const std::exception& e) {
      if (!probe.done()) {
        probe.cancel();
        finished(probe, ProbeResult::failure(std::string("probe: ") + e.what()));
      }
    }
  }

  /// The connection kept for `job`'s target, when it may carry `job`; one that may not (the
  /// check changed, the target was replaced) is closed.
  ProbeConnection* takeKept(const HealthJob& job) {
    const auto it = kept_.find(job.targetId);
    if (it == kept_.end()) return nullptr;
    ProbeConnection* held = it->second;
    kept_.erase(it);
    if (ProbeKeepAlive::fits(held->job(), job)) return held;
    held->cancel();
    release(*held);
    return nullptr;
  }

  /// A closed probe connection goes, after this batch; a kept one no longer counts.
  void release(ProbeConnection& probe) {
    if (probe.keepAlive()) keepAlive_.release();
    const auto it = live_.find(&probe);
    assert(it != live_.end());  // released once
    loop_.releaseLater(std::move(it->second));
    live_.erase(it);
  }

  void endBatch() {
    if (share_.size() > 0 && loop_.now() >= nextPruneMs_) {
      share_.prune(loop_.now());
      nextPruneMs_ = loop_.now() + kTcpShareWindow.count();
    }
    keptCount_.store(keepAlive_.kept(), std::memory_order_relaxed);
    // Counted once per batch, with the outcomes handed over.
    inFlight_.fetch_sub(finished_, std::memory_order_relaxed);
    finished_ = 0;
    if (outcomes_.empty()) return;
    std::vector<ProbeOutcome> batch;
    batch.swap(outcomes_);
    sink_.probed(batch);
  }

  ProbeSink& sink_;
  const net::TlsClientConfig* tls_;
  net::EventLoop loop_;
  std::map<std::int64_t, std::unique_ptr<net::TimerList>> timeouts_;
  std::unordered_map<ProbeConnection*, std::unique_ptr<ProbeConnection>> live_;  // and kept
  ProbeKeepAlive keepAlive_;
  TcpProbeShare share_{kTcpShareWindow};
  std::int64_t nextPruneMs_{0};
  std::unordered_map<std::int64_t, ProbeConnection*> kept_;  // target id -> its kept connection
  std::size_t finished_{0};                                  // in this batch
  std::vector<ProbeOutcome> outcomes_;
  std::atomic<std::size_t> inFlight_{0};
  std::atomic<std::size_t> keptCount_{0};  // keepAlive_.kept() at the last batch's end
};

ProbeLoops::ProbeLoops(std::size_t loops, std::shared_ptr<const net::TlsClientConfig> tls,
                       std::size_t keepAliveMax)
    : count_(std::max<std::size_t>(1, loops)), tls_(std::move(tls)), keepAliveMax_(keepAliveMax) {}

ProbeLoops::~ProbeLoops() {
  stop();
}

void ProbeLoops::start(ProbeSink& sink) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!loops_.empty()) return;
  for (std::size_t i = 0; i < count_; ++i)
    loops_.push_back(std::make_unique<Loop>(
        sink, tls_.get(),
        keepAliveMax_ == 0 ? 0 : std::max<std::size_t>(1, keepAliveMax_ / count_)));
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    threads_.emplace_back([l] {
      try {
        l->loop().run();
      } catch (const std::exception& e) {
        logError(std::string("health: probe loop stopped: ") + e.what());
      }
    });
  }
}

void ProbeLoops::run(std::vector<HealthJob> jobs) {
  if (jobs.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (loops_.empty()) return;
  // Whole batches in turn: one post per loop, not one per probe.
  const std::size_t n = loops_.size();
  std::vector<std::vector<HealthJob>> shares(n);
  // By target: a target's probes all go to one loop, where its kept connection waits.
  for (auto& job : jobs)
    shares[static_cast<std::uint64_t>(job.targetId) % n].push_back(std::move(job));
  for (std::size_t i = 0; i < n; ++i) {
    if (shares[i].empty()) continue;
    Loop* loop = loops_[i].get();
    auto share = std::make_shared<std::vector<HealthJob>>(std::move(shares[i]));
    loop->loop().post([loop, share] { loop->startJobs(*share); });
  }
}

void ProbeLoops::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& loop : loops_) loop->loop().stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  loops_.clear();
}

std::size_t ProbeLoops::kept() const {
  std::size_t n = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& loop : loops_) n += loop->kept();
  return n;
}

std::size_t ProbeLoops::inFlight() const {
  std::size_t n = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& loop : loops_) n += loop->inFlight();
  return n;
}

}  // namespace portico
