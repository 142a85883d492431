#include "health/HealthChecker.h"

#include <sys/resource.h>

#include <algorithm>

#include "health/ProbeLoops.h"
#include "observe/SidecarMetrics.h"
#include "store/Store.h"

namespace portico {
namespace {

// A local probe takes about a millisecond: 1,024 at once carry far more than 10,000 probes a
// second, and stay within a target's listen backlog (often 1,024 to 4,096) when probes that
// fell behind all come due together; more would get SYNs dropped and probes timed out.
constexpr std::size_t kMaxInFlight = 1024;

std::size_t probeBudget(std::size_t configured) {
  if (configured > 0) return configured;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return kMaxInFlight;
  return std::clamp<std::size_t>(static_cast<std::size_t>(limit.rlim_cur) / 2, 64, kMaxInFlight);
}

/// Kept probe connections hold descriptors between probes: never more than half of what the
/// limit leaves beside the probes in flight, whatever the configuration says.
std::size_t keepAliveBudget(std::size_t configured, std::size_t inFlight) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return configured;
  const auto open = static_cast<std::size_t>(limit.rlim_cur);
  return std::min(configured, open > inFlight ? (open - inFlight) / 2 : 0);
}

}  // namespace

HealthChecker::HealthChecker(Store& store, std::shared_ptr<const net::TlsClientConfig> tls,
                             HealthCheckerOptions options)
    : HealthChecker(store,
                    std::make_shared<ProbeLoops>(
                        options.loops, std::move(tls),
                        keepAliveBudget(options.keepAliveMax, probeBudget(options.maxInFlight))),
                    options) {}

HealthChecker::HealthChecker(Store& store, std::shared_ptr<ProbeRunner> runner,
                             HealthCheckerOptions options)
    : batchWindow_(options.batchWindow),
      maxInFlight_(probeBudget(options.maxInFlight)),
      runner_(std::move(runner)),
      link_(store, HealthStoreLink::Options{options.revisionPoll, options.checkedFlush}) {}

HealthChecker::~HealthChecker() {
  stop();
  if (metrics_) metrics_->countProbesFrom(nullptr);
}

void HealthChecker::observe(SidecarMetrics* metrics) {
  if (metrics_) metrics_->countProbesFrom(nullptr);
  metrics_ = metrics;
  link_.observe(metrics);
  if (metrics_) metrics_->countProbesFrom(this);
}

void HealthChecker::visitProbeCounts(const Visit& visit) const {
  struct Row {
    std::string route, host, target;
    ProbeCount count;
  };
  std::vector<Row> rows;
  {
    // Copied under the lock, handed out after it: a scrape holds up probes' outcomes for no
    // longer than the copy.
    std::lock_guard<std::mutex> lock(mutex_);
    rows.reserve(schedule_.size());
    schedule_.visitCounts([&rows](const std::string& route, const std::string& host,
                                  const std::string& target, const ProbeCount& count) {
      rows.push_back(Row{route, host, target, count});
    });
  }
  for (const auto& row : rows) visit(row.route, row.host, row.target, row.count);
}

void HealthChecker::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
  }
  link_.start(*this);  // the first load is done when it returns
  runner_->start(*this);
  scheduler_ = std::thread([this] { schedulerLoop(); });
}

void HealthChecker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  runner_->stop();  // no outcome arrives after this
  link_.stop();     // verdicts reached so far are written
  std::lock_guard<std::mutex> lock(mutex_);
  // Probes dropped in flight are due again at their old time, for a later start().
  schedule_.releaseInFlight();
  inFlight_ = 0;
  running_ = false;
}

void HealthChecker::notifyChanged() {
  link_.notifyChanged();
}

void HealthChecker::loaded(const std::vector<RouteRecord>& routes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    schedule_.sync(routes, Clock::now());
    scheduleChanged_ = true;
  }
  wake_.notify_one();
}

void HealthChecker::changed(const std::vector<RouteRecord>& routes,
                            const std::vector<RouteKey>& removed) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    schedule_.apply(routes, removed, Clock::now());
    scheduleChanged_ = true;
  }
  wake_.notify_one();
}

void HealthChecker::notStored(const HealthVerdict& verdict) {
  std::lock_guard<std::mutex> lock(mutex_);
  schedule_.storeFailed(verdict.targetId, verdict.generation);
}

void HealthChecker::probed(std::vector<ProbeOutcome>& outcomes) {
  // Counted by the schedule (complete()); timed here.
  if (metrics_) {
    for (const auto& o : outcomes)
      if (!o.result.local) metrics_->probed(o.seconds);
  }
  std::vector<std::int64_t> checked;
  checked.reserve(outcomes.size());
  std::vector<HealthVerdict> verdicts;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = Clock::now();
    // Below the cap again: what waited for a free slot starts now.
    if (inFlight_ >= maxInFlight_) {
      scheduleChanged_ = true;
      wake = true;
    }
    inFlight_ -= std::min(inFlight_, outcomes.size());
    for (const auto& o : outcomes) {
      if (!o.result.local) checked.push_back(o.job.targetId);
      if (auto verdict = schedule_.complete(o.job, o.result, now))
        verdicts.push_back(std::move(*verdict));
      // The scheduler may be asleep past this target's next turn (it was in flight when it
      // planned): wake it so the phase holds.
      if (auto due = schedule_.dueOf(o.job.targetId); due && *due < plannedWake_) {
        plannedWake_ = *due;
        scheduleChanged_ = true;
        wake = true;
      }
    }
    // Handed over under the lock: two batches completing the same target must reach the link
    // in the order the schedule decided them.
    for (auto& v : verdicts) link_.write(std::move(v));
  }
  if (wake) wake_.notify_one();
  link_.checked(checked);
}

void HealthChecker::schedulerLoop() {
  // Without due probes, look again at least this often (a safety net: every change of the
  // schedule notifies).
  constexpr auto kIdleWake = std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    scheduleChanged_ = false;
    auto jobs = schedule_.takeDue(Clock::now(), maxInFlight_ - std::min(inFlight_, maxInFlight_));
    inFlight_ += jobs.size();
    if (!jobs.empty()) {
      // Outside the lock: a runner may complete a probe (a fake, a refused connect) at once.
      lock.unlock();
      runner_->run(std::move(jobs));
      lock.lock();
      continue;  // more may have become due meanwhile
    }
    const auto now = Clock::now();
    plannedWake_ = now + kIdleWake;
    // At the cap, what is due waits for outcomes (probed() wakes this loop), not for its time.
    if (auto due = schedule_.nextDue(); inFlight_ < maxInFlight_ && due)
      plannedWake_ = std::min(plannedWake_, std::max(*due, now + batchWindow_));
    wake_.wait_until(lock, plannedWake_, [this] { return stopping_ || scheduleChanged_; });
  }
}

}  // namespace portico
