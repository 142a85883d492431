#include "runtime/SnapshotReloader.h"

#include <malloc.h>

#include <cassert>
#include <optional>

#include "balance/TargetState.h"
#include "base/Errors.h"
#include "base/Log.h"
#include "base/ThreadCpuClock.h"
#include "observe/ProxyMetrics.h"
#include "store/factory/StoreFactory.h"

namespace portico {

SnapshotReloader::SnapshotReloader(StoreLocation store, std::chrono::milliseconds interval,
                                   RouteTableSlot& slot, std::size_t loops, DroppedTargets dropped,
                                   ProxyMetrics* metrics)
    : where_(std::move(store)),
      interval_(interval),
      slot_(slot),
      loops_(loops),
      dropped_(std::move(dropped)),
      metrics_(metrics),
      feed_(openChangeFeed(where_)) {}

SnapshotReloader::~SnapshotReloader() {
  stop();
}

void SnapshotReloader::failed(const std::string& message) {
  store_.reset();  // reopen next time: the file may have been replaced or upgraded
  if (message == failure_) return;
  failure_ = message;
  logWarn(message + (loadedRevision_ >= 0 ? " (serving the last snapshot)" : " (no routes yet)"));
}

void SnapshotReloader::reload() {
  // Only what changed since the table we hold, patched into a copy that shares every other
  // route; everything when the history does not reach back (or at the first load).
  const auto changes = store_->routesChangedSince(loadedRevision_);
  const auto previous = slot_.latest();
  std::vector<std::string> problems;
  std::shared_ptr<const RouteTable> next;
  std::vector<std::shared_ptr<TargetState>> gone;
  if (changes.complete && previous->revision() == loadedRevision_) {
    next = RouteTable::patch(*previous, changes.routes, changes.removed, changes.revision,
                             &problems, loops_, metrics_, SnapshotClock::now(), &gone);
  } else {
    next = RouteTable::build(changes.routes, previous.get(), changes.revision, &problems, loops_,
                             metrics_);
    gone = previous->droppedBy(*next);
  }
  assert(next->revision() == changes.revision);
  slot_.publish(next);
  trim_.reloaded(std::chrono::steady_clock::now());
  loadedRevision_ = changes.revision;
  if (metrics_) metrics_->tableLoaded(changes.revision);
  if (applied_) applied_(changes.revision);
  // Idle connections to removed targets close now; in-flight ones finish and are not kept.
  for (const auto& t : gone) {
    t->retired.store(true, std::memory_order_relaxed);
    if (t->pool) t->pool->retire();
  }
  if (dropped_ && !gone.empty()) dropped_(gone);
  for (const auto& p : problems) logWarn(p);
  logLine(
      "store revision " + std::to_string(changes.revision) +
      (changes.complete ? ", " + std::to_string(changes.routes.size() + changes.removed.size()) +
                              " routes changed: "
                        : ": ") +
      std::to_string(next->routes().size()) + " routes, " + std::to_string(next->targetCount()) +
      " targets (" + std::to_string(next->inRotationCount()) + " in rotation)");
}

void SnapshotReloader::pruneIdle() {
  // Between reloads, idle upstream connections past their age are closed here, off the request
  // path. Once a second is enough (connections idle for seconds are the ones closed), and
  // 50,000 targets every poll would not be.
  const auto now = std::chrono::steady_clock::now();
  if (now < nextPrune_) return;
  nextPrune_ = now + std::chrono::seconds(1);
  const auto table = slot_.latest();
  for (const auto& r : table->routes()) {
    for (const auto& t : r->targets)
      if (t->pool) t->pool->prune();
  }
}

void SnapshotReloader::pollOnce(bool strict) {
  try {
    if (!store_) store_ = openStore(where_, Store::Access::ReadOnly);
    if (store_->revision() != loadedRevision_) reload();
    if (!failure_.empty()) {
      logLine(where_.describe() + " is readable again");
      failure_.clear();
    }
  } catch (const StoreNotReady& e) {
    failed(std::string("waiting for the store: ") + e.what());
  } catch (const StoreUnavailable& e) {
    // Not strict: a database that is down at start comes back; the proxy waits for it.
    if (metrics_) metrics_->storeReadFailed();
    failed(where_.describe() + " unavailable: " + e.what());
  } catch (const StoreError& e) {
    if (strict) throw;
    if (metrics_) metrics_->storeReadFailed();
    failed(where_.describe() + " unreadable: " + e.what());
  } catch (const std::exception& e) {
    if (strict) throw StoreError(where_.describe() + ": " + e.what());
    if (metrics_) metrics_->storeReadFailed();
    failed(where_.describe() + " unreadable: " + e.what());
  }
  pruneIdle();
  slot_.collectRetired();
#ifdef __GLIBC__
  if (trim_.due(std::chrono::steady_clock::now())) malloc_trim(0);
#endif
}

void SnapshotReloader::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void SnapshotReloader::stop() {
  stopping_ = true;
  feed_->interrupt();
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) thread_.join();
}

void SnapshotReloader::run() {
  using Clock = std::chrono::steady_clock;
  bool announced = false;  // a change announced while the last reload's gap ran
  int rechecks = 0;        // reads again of an announcement that found no new revision yet
  while (!stopping_) {
    // A change announced during the gap was taken from the feed there: read it now rather
    // than wait for the next one (or the interval).
    const bool woke = announced || feed_->wait(interval_);
    announced = false;
    if (stopping_) break;
    const auto before = loadedRevision_;
    const auto cpu = ThreadCpuClock::now();
    pollOnce();
    if (loadedRevision_ == before) {
      // An SQLite store announces the writes to its log before the commit they make is
      // readable (the log is synced first, 0.2 to 20 ms): read again shortly rather than at
      // the next announcement or interval, which made changes wait up to 100 ms to be served.
      const auto again = woke ? pacing_.recheck(rechecks++) : std::nullopt;
      if (again) {
        feed_->pause(Clock::now() + *again);
        announced = true;
      } else {
        rechecks = 0;
      }
      continue;
    }
    rechecks = 0;
    // After a reload, changes announced within the gap are read together: a script writing
    // hundreds of routes a second would otherwise cost a table (a copy of every route pointer
    // and the host index) per write. The pause takes what the feed announced meanwhile.
    announced = feed_->pause(pacing_.next(Clock::now(), ThreadCpuClock::now() - cpu));
  }
}

}  // namespace portico
