#include "health/HealthLeases.h"

#include <algorithm>

#include "base/Errors.h"
#include "base/Log.h"
#include "store/Store.h"

namespace portico {

HealthLeases::HealthLeases(Store& store, std::string holder, std::chrono::milliseconds leaseTimeout,
                           std::function<void()> changed)
    : store_(store),
      holder_(std::move(holder)),
      leaseTimeout_(leaseTimeout),
      changed_(std::move(changed)) {}

HealthLeases::~HealthLeases() {
  stop();
}

void HealthLeases::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void HealthLeases::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  try {
    store_.releaseLeases(holder_);
  } catch (const std::exception& e) {
    logWarn(std::string("health: cannot give up the leases (they expire by themselves): ") +
            e.what());
  }
}

bool HealthLeases::paused() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return paused_;
}

bool HealthLeases::renew() {
  std::lock_guard<std::mutex> renewing(renewMutex_);
  std::set<std::int64_t> held;
  bool failed = false;
  std::string why;
  try {
    const auto ids = store_.renewLeases(holder_, leaseTimeout_);
    held.insert(ids.begin(), ids.end());
  } catch (const std::exception& e) {
    failed = true;
    why = e.what();
  }
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failed && !paused_) logWarn("health: checks paused, cannot renew the leases: " + why);
    if (!failed && paused_) logLine("health: the store is back, checks resume");
    paused_ = failed;
    changed = held != held_;
    held_.swap(held);
  }
  if (changed && changed_) changed_();
  return changed;
}

std::vector<RouteRecord> HealthLeases::select(std::vector<RouteRecord> routes, bool whole) {
  std::set<std::int64_t> present;
  for (const auto& r : routes) {
    for (const auto& t : r.targets) {
      if (t.state != ServingState::Disabled) present.insert(t.id);
    }
  }
  bool fresh = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fresh = !std::includes(seen_.begin(), seen_.end(), present.begin(), present.end());
    // Routes a change touched only add to what was seen: the others still hold theirs (a
    // replaced set would make the next change look new and renew every lease for it).
    if (whole) {
      seen_ = std::move(present);
    } else {
      seen_.insert(present.begin(), present.end());
    }
  }
  // A target added a moment ago is claimed now, so that it is probed at once rather than at
  // the next renewal.
  if (fresh) renew();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& r : routes) {
    r.targets.erase(std::remove_if(r.targets.begin(), r.targets.end(),
                                   [this](const TargetRecord& t) { return !held_.count(t.id); }),
                    r.targets.end());
  }
  return routes;
}

void HealthLeases::run() {
  const auto period = std::max(std::chrono::milliseconds(25), leaseTimeout_ / 4);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, period, [this] { return stopping_; })) break;
    lock.unlock();
    renew();
    lock.lock();
  }
}

}  // namespace portico
