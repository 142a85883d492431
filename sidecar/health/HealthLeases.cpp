#include "health/HealthLeases.h"

#include <algorithm>

#include "base/Errors.h"
#include "base/Log.h"
#include "store/Store.h"

namespace portico {
namespace {

/// Adds `ids` (ascending, no repeats) to `into` (ascending, no repeats), keeping it so. New targets
/// have the highest ids, so this is an append in the common case, not a pass over every target.
void insertSorted(std::vector<std::int64_t>& into, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  const bool append = into.empty() || into.back() < ids.front();
  const auto middle = static_cast<std::ptrdiff_t>(into.size());
  into.insert(into.end(), ids.begin(), ids.end());
  if (append) return;
  std::inplace_merge(into.begin(), into.begin() + middle, into.end());
  into.erase(std::unique(into.begin(), into.end()), into.end());
}

}  // namespace

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
  std::vector<std::int64_t> held;
  bool failed = false;
  std::string why;
  try {
    held = store_.renewLeases(holder_, leaseTimeout_);  // ascending
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
    changed = mustReload(held);
    held_.swap(held);
  }
  if (changed && changed_) changed_();
  return changed;
}

bool HealthLeases::holds(std::int64_t id) const {
  return std::binary_search(held_.begin(), held_.end(), id);
}

bool HealthLeases::mustReload(const std::vector<std::int64_t>& held) const {
  // Lost targets leave the checker's schedule only on a whole read. Gained ones need it only
  // when the checker has seen them already (and left them out): a target not seen yet comes
  // with the change that created it, and select() then finds it held. Reloading for those too
  // made every renewal during a run of creates a whole read of the store, which renewed again.
  if (!std::includes(held.begin(), held.end(), held_.begin(), held_.end())) return true;
  for (const auto id : held)
    if (!holds(id) && std::binary_search(seen_.begin(), seen_.end(), id)) return true;
  return false;
}

std::vector<RouteRecord> HealthLeases::select(std::vector<RouteRecord> routes, bool whole) {
  std::vector<std::int64_t> present;
  for (const auto& r : routes) {
    for (const auto& t : r.targets) {
      if (t.state != ServingState::Disabled) present.push_back(t.id);
    }
  }
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  std::vector<std::int64_t> fresh;
  {
    // A look-up per target present, not a pass over every target seen: a change brings a few.
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto id : present)
      if (!std::binary_search(seen_.begin(), seen_.end(), id)) fresh.push_back(id);
  }
  // A target added a moment ago is claimed now, so that it is probed at once rather than at
  // the next renewal: after a whole read by a renewal (the set may have moved anyway), after a
  // change by claiming just the new ones. Either way they are in `routes`, filtered below: no
  // reload for them (so they join seen_ only after).
  if (whole && !fresh.empty()) renew();
  if (!whole && !fresh.empty()) claim(fresh);
  std::lock_guard<std::mutex> lock(mutex_);
  // Routes a change touched only add to what was seen: the others still hold theirs (a
  // replaced set would make the next change look new and renew every lease for it).
  if (whole) {
    seen_ = std::move(present);
  } else {
    insertSorted(seen_, fresh);
  }
  for (auto& r : routes) {
    r.targets.erase(std::remove_if(r.targets.begin(), r.targets.end(),
                                   [this](const TargetRecord& t) { return !holds(t.id); }),
                    r.targets.end());
  }
  return routes;
}

void HealthLeases::claim(const std::vector<std::int64_t>& ids) {
  std::lock_guard<std::mutex> renewing(renewMutex_);
  std::vector<std::int64_t> claimed;
  try {
    claimed = store_.claimLeases(holder_, ids, leaseTimeout_);
  } catch (const std::exception& e) {
    // The next renewal (a quarter of the lease timeout away) takes them with its share.
    logInfo(std::string("health: cannot claim new targets now: ") + e.what());
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  insertSorted(held_, claimed);
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
