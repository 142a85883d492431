#include "HealthChecker.h"

#include <algorithm>
#include <system_error>

#include "Log.h"
#include "ProbeByType.h"
#include "SidecarMetrics.h"
#include "Store.h"
#include "TargetSelection.h"

namespace portico {

HealthChecker::HealthChecker(Store& store)
    : HealthChecker(store, std::make_shared<ProbeByType>()) {}

HealthChecker::HealthChecker(Store& store, std::shared_ptr<Probe> probe,
                             HealthCheckerOptions options)
    : store_(store), probe_(std::move(probe)), options_(options) {
  options_.threads = std::max(1, options_.threads);
  options_.maxThreads = std::max(options_.threads, options_.maxThreads);
}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
  }
  // Read the stored verdicts before anything is probed, so a restart resumes from them.
  reload();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    addWorkers(static_cast<std::size_t>(options_.threads));
  }
  scheduler_ = std::thread([this] { schedulerLoop(); });
  storeThread_ = std::thread([this] { storeLoop(); });
}

void HealthChecker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  schedulerWake_.notify_all();
  storeWake_.notify_all();
  workReady_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  if (storeThread_.joinable()) storeThread_.join();
  // The scheduler, the only one to start workers, is gone: the set cannot grow any more.
  std::unordered_map<std::thread::id, std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
    left_.clear();
  }
  for (auto& [id, worker] : workers) worker.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Jobs never started go back to the schedule, due as before, for a later start().
    for (const auto& job : queue_) schedule_.release(job);
    queue_.clear();
    running_ = false;
  }
  flushChecked();
}

void HealthChecker::notifyChanged() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    changed_ = true;
  }
  storeWake_.notify_one();
}

std::size_t HealthChecker::workerCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return liveWorkers();
}

std::size_t HealthChecker::liveWorkers() const {
  return workers_.size() - left_.size();
}

void HealthChecker::reload() {
  try {
    // The revision is read first: a change committed during the load is seen by the next poll.
    const auto revision = store_.revision();
    auto routes = store_.loadRoutes();
    if (selection_) routes = selection_->select(std::move(routes));
    std::lock_guard<std::mutex> lock(mutex_);
    seenRevision_ = revision;
    schedule_.sync(routes, Clock::now());
    scheduleChanged_ = true;
  } catch (const std::exception& e) {
    if (selection_ && selection_->paused()) {
      // The store is unreachable: probe nothing (verdicts could not be written, and another
      // sidecar may hold the leases by the time it is back).
      std::lock_guard<std::mutex> lock(mutex_);
      schedule_.sync({}, Clock::now());
      scheduleChanged_ = true;
      return;
    }
    logWarn(std::string("health: cannot read the store: ") + e.what());
  }
}

void HealthChecker::flushChecked() {
  std::vector<std::int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ids.swap(checked_);
  }
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  try {
    store_.recordChecked(ids);
  } catch (const std::exception& e) {
    logWarn(std::string("health: cannot record check times: ") + e.what());
  }
}

void HealthChecker::storeLoop() {
  // Store I/O lives here, not in the scheduler: a commit that waits on the disk (a WAL
  // checkpoint) or on another process's lock must not hold up the probes of every target.
  auto nextPoll = Clock::now() + options_.revisionPoll;
  auto nextFlush = Clock::now() + options_.checkedFlush;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    storeWake_.wait_until(lock, std::min(nextPoll, nextFlush),
                          [this] { return stopping_ || changed_; });
    if (stopping_) break;
    bool mustReload = changed_;
    changed_ = false;
    const auto known = seenRevision_;
    lock.unlock();
    const auto now = Clock::now();
    if (!mustReload && now >= nextPoll) {
      try {
        mustReload = store_.revision() != known;
        revisionUnreadable_ = false;
      } catch (const std::exception& e) {
        if (!revisionUnreadable_)
          logLine(std::string("health: cannot read the store revision: ") + e.what());
        revisionUnreadable_ = true;
      }
    }
    if (now >= nextPoll) nextPoll = now + options_.revisionPoll;
    if (mustReload) {
      reload();
      schedulerWake_.notify_one();
    }
    if (now >= nextFlush) {
      flushChecked();
      nextFlush = now + options_.checkedFlush;
    }
    lock.lock();
  }
}

void HealthChecker::schedulerLoop() {
  // Without due probes, look again at least this often (a safety net: every change of the
  // schedule notifies).
  constexpr auto kIdleWake = std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    scheduleChanged_ = false;
    auto jobs = schedule_.takeDue(Clock::now());
    if (!jobs.empty()) {
      for (auto& job : jobs) queue_.push_back(std::move(job));
      // Probes that would wait for a busy worker get a new one (up to maxThreads): a few
      // silent targets must not hold up the schedule of all the others.
      const std::size_t ready = idle_ + starting_;
      if (queue_.size() > ready) addWorkers(queue_.size() - ready);
      if (jobs.size() == 1) {
        workReady_.notify_one();
      } else {
        workReady_.notify_all();
      }
    }
    if (!left_.empty()) {
      lock.unlock();
      reapWorkers();
      lock.lock();
    }
    plannedWake_ = Clock::now() + kIdleWake;
    if (auto due = schedule_.nextDue()) plannedWake_ = std::min(plannedWake_, *due);
    // plannedWake_ is passed by reference: a worker that moves it earlier (see workerLoop)
    // shortens this wait.
    schedulerWake_.wait_until(lock, plannedWake_, [this] { return stopping_ || scheduleChanged_; });
  }
}

void HealthChecker::addWorkers(std::size_t wanted) {
  const auto cap = static_cast<std::size_t>(options_.maxThreads);
  for (std::size_t live = liveWorkers(); wanted > 0 && live < cap; --wanted, ++live) {
    try {
      std::thread worker([this] { workerLoop(); });
      const auto id = worker.get_id();
      workers_.emplace(id, std::move(worker));
      ++starting_;
      spawnFailed_ = false;
    } catch (const std::system_error& e) {
      // Out of threads: the running workers carry on; the next due probe tries again.
      if (!spawnFailed_) logError(std::string("health: cannot start a probe worker: ") + e.what());
      spawnFailed_ = true;
      return;
    }
  }
}

void HealthChecker::reapWorkers() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto id : left_) {
      auto it = workers_.find(id);
      if (it == workers_.end()) continue;
      done.push_back(std::move(it->second));
      workers_.erase(it);
    }
    left_.clear();
  }
  for (auto& worker : done) worker.join();  // each has returned or is returning
}

void HealthChecker::workerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  --starting_;
  while (true) {
    ++idle_;
    const bool woken = workReady_.wait_for(lock, options_.idleTime,
                                           [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    if (!woken) {
      // Idle for idleTime: the extra workers of a past burst leave, the warm ones stay.
      if (liveWorkers() > static_cast<std::size_t>(options_.threads)) {
        left_.push_back(std::this_thread::get_id());  // joined on the scheduler's next pass
        return;
      }
      continue;
    }
    HealthJob job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();

    ProbeResult result;
    const auto started = Clock::now();
    try {
      result = probe_->check(job.target, job.spec, started + job.spec.timeout);
    } catch (const std::exception& e) {
      result = ProbeResult::failure(std::string("probe: ") + e.what());
    }
    if (metrics_)
      metrics_->probed(job.prefix, job.target.canonical, result.ok,
                       std::chrono::duration<double>(Clock::now() - started).count());

    lock.lock();
    auto verdict = schedule_.complete(job, result, Clock::now());
    checked_.push_back(job.targetId);
    // The scheduler may be asleep past this target's next turn (it was in flight when it
    // planned): wake it so the phase holds.
    if (auto due = schedule_.dueOf(job.targetId); due && *due < plannedWake_) {
      plannedWake_ = *due;
      schedulerWake_.notify_one();
    }
    if (verdict) writeInOrder(std::move(*verdict), lock);
  }
}

void HealthChecker::writeInOrder(HealthVerdict verdict, std::unique_lock<std::mutex>& lock) {
  const auto id = verdict.targetId;
  auto busy = writing_.find(id);
  if (busy != writing_.end()) {
    busy->second = std::move(verdict);  // the worker writing this target writes it next
    return;
  }
  writing_.emplace(id, std::nullopt);
  for (;;) {
    lock.unlock();
    const bool written = write(verdict);
    lock.lock();
    auto& next = writing_.at(id);
    if (!next) {
      if (!written) schedule_.storeFailed(verdict.targetId, verdict.generation);
      break;
    }
    // A newer verdict supersedes this one, written or not.
    verdict = std::move(*next);
    next.reset();
  }
  writing_.erase(id);
}

bool HealthChecker::write(const HealthVerdict& verdict) {
  try {
    store_.recordVerdict(verdict.targetId, verdict.healthy, verdict.error,
                         selection_ ? selection_->holder() : std::string());
  } catch (const std::exception& e) {
    logError("health: cannot store the verdict of " + verdict.url + ": " + e.what());
    return false;
  }
  if (metrics_) metrics_->transitioned(verdict.prefix, verdict.url, verdict.healthy);
  const std::string line =
      "health: route " + verdict.prefix + " target " + verdict.url + " is now " +
      (verdict.healthy ? std::string("healthy") : "unhealthy: " + verdict.error);
  if (verdict.healthy) {
    logInfo(line);
  } else {
    logWarn(line);
  }
  return true;
}

}  // namespace portico
