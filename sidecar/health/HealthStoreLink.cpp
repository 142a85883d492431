#include "health/HealthStoreLink.h"

#include <algorithm>

#include "base/Log.h"
#include "base/ThreadCpuClock.h"
#include "health/TargetSelection.h"
#include "observe/SidecarMetrics.h"
#include "store/Store.h"

namespace portico {

HealthStoreLink::HealthStoreLink(Store& store, Options options)
    : store_(store), options_(options) {}

HealthStoreLink::~HealthStoreLink() {
  stop();
}

void HealthStoreLink::start(HealthStoreListener& listener) {
  if (thread_.joinable()) return;
  listener_ = &listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  // Read the stored verdicts before anything is probed, so a restart resumes from them.
  seenRevision_ = -1;
  reload();
  thread_ = std::thread([this] { run(); });
}

void HealthStoreLink::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  flushChecked();
}

void HealthStoreLink::notifyChanged() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Told already: the thread reads it at the end of its gap. Waking it at every write of a
    // burst (it sleeps again until the gap ends) cost a context switch per route created.
    if (changed_) return;
    changed_ = true;
  }
  wake_.notify_one();
}

void HealthStoreLink::selectionChanged() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wholeRead_ = true;
    changed_ = true;
  }
  wake_.notify_one();
}

void HealthStoreLink::write(HealthVerdict verdict) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto id = verdict.targetId;
    auto [it, added] = waiting_.insert_or_assign(id, std::move(verdict));
    (void)it;
    if (added) order_.push_back(id);
  }
  wake_.notify_one();
}

void HealthStoreLink::checked(const std::vector<std::int64_t>& targetIds) {
  std::lock_guard<std::mutex> lock(mutex_);
  checked_.insert(checked_.end(), targetIds.begin(), targetIds.end());
}

void HealthStoreLink::reload() {
  try {
    bool whole = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      whole = wholeRead_;
      wholeRead_ = false;
    }
    // What changed since the revision seen, read in one transaction with the revision it
    // reflects: a change committed after it is seen by the next poll.
    auto changes = store_.routesChangedSince(whole ? -1 : seenRevision_);
    seenRevision_ = changes.revision;
    if (selection_)
      changes.routes = selection_->select(std::move(changes.routes), !changes.complete);
    if (changes.complete) {
      if (!changes.routes.empty() || !changes.removed.empty())
        listener_->changed(changes.routes, changes.removed);
    } else {
      listener_->loaded(changes.routes);
    }
  } catch (const std::exception& e) {
    if (selection_ && selection_->paused()) {
      // The store is unreachable: probe nothing (verdicts could not be written, and another
      // sidecar may hold the leases by the time it is back). Everything is read once it is.
      listener_->loaded({});
      std::lock_guard<std::mutex> lock(mutex_);
      wholeRead_ = true;
      return;
    }
    logWarn(std::string("health: cannot read the store: ") + e.what());
  }
}

void HealthStoreLink::flushChecked() {
  std::vector<std::int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ids.swap(checked_);
  }
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // In slices, each its own short transaction: 10,000 stamps a second in one would hold the
  // store's write lock long enough to slow every admin write queued behind it.
  constexpr std::size_t kSlice = 500;
  for (std::size_t from = 0; from < ids.size(); from += kSlice) {
    const std::vector<std::int64_t> slice(
        ids.begin() + static_cast<long>(from),
        ids.begin() + static_cast<long>(std::min(ids.size(), from + kSlice)));
    try {
      store_.recordChecked(slice);
    } catch (const std::exception& e) {
      logWarn(std::string("health: cannot record check times: ") + e.what());
      return;
    }
  }
}

void HealthStoreLink::writeWaiting(std::unique_lock<std::mutex>& lock) {
  while (!order_.empty()) {
    const auto id = order_.front();
    order_.pop_front();
    auto it = waiting_.find(id);
    HealthVerdict verdict = std::move(it->second);
    waiting_.erase(it);
    lock.unlock();
    const bool written = store(verdict);
    lock.lock();
    // A newer verdict of the target, queued meanwhile, is written next whatever became of this
    // one; without one, the schedule must learn the store does not hold this verdict.
    if (!written && !waiting_.count(id)) {
      lock.unlock();
      listener_->notStored(verdict);
      lock.lock();
    }
  }
}

bool HealthStoreLink::store(const HealthVerdict& verdict) {
  try {
    store_.recordVerdict(verdict.targetId, verdict.healthy, verdict.error,
                         selection_ ? selection_->holder() : std::string());
  } catch (const std::exception& e) {
    logError("health: cannot store the verdict of " + verdict.url + ": " + e.what());
    return false;
  }
  if (metrics_) metrics_->transitioned(verdict.prefix, verdict.host, verdict.url, verdict.healthy);
  const std::string line =
      "health: route " + verdict.host + verdict.prefix + " target " + verdict.url + " is now " +
      (verdict.healthy ? std::string("healthy") : "unhealthy: " + verdict.error);
  if (verdict.healthy) {
    logInfo(line);
  } else {
    logWarn(line);
  }
  return true;
}

void HealthStoreLink::run() {
  using Clock = std::chrono::steady_clock;
  auto nextPoll = Clock::now() + options_.revisionPoll;
  auto nextFlush = Clock::now() + options_.checkedFlush;
  auto reloadAfter = Clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_until(lock, std::min(nextPoll, nextFlush),
                     [this] { return stopping_ || changed_ || !order_.empty(); });
    // A burst of writes (a script creating routes) is read a few at a time rather than one by
    // one: a read of what changed, and the lease claim after it, cost more than the write did.
    if (changed_ && order_.empty())
      wake_.wait_until(lock, reloadAfter, [this] { return stopping_ || !order_.empty(); });
    // Verdicts first: a transition is what the proxy waits for.
    writeWaiting(lock);
    if (stopping_) break;
    bool mustReload = changed_;
    changed_ = false;
    lock.unlock();
    const auto now = Clock::now();
    if (!mustReload && now >= nextPoll) {
      try {
        mustReload = store_.revision() != seenRevision_;
        revisionUnreadable_ = false;
      } catch (const std::exception& e) {
        if (!revisionUnreadable_)
          logLine(std::string("health: cannot read the store revision: ") + e.what());
        revisionUnreadable_ = true;
      }
    }
    if (now >= nextPoll) nextPoll = now + options_.revisionPoll;
    if (mustReload) {
      const auto cpu = ThreadCpuClock::now();
      reload();
      reloadAfter = options_.reloadPacing.next(Clock::now(), ThreadCpuClock::now() - cpu);
    }
    if (now >= nextFlush) {
      flushChecked();
      nextFlush = now + options_.checkedFlush;
    }
    lock.lock();
  }
}

}  // namespace portico
