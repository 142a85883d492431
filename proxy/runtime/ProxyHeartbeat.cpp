#include "runtime/ProxyHeartbeat.h"

#include "base/Errors.h"
#include "base/Log.h"
#include "store/factory/StoreFactory.h"

namespace portico {
namespace {

constexpr std::chrono::milliseconds kMinGap{20};

}  // namespace

ProxyHeartbeat::ProxyHeartbeat(StoreLocation store, ProxyReport report)
    : where_(std::move(store)), interval_(report.heartbeatMs), report_(std::move(report)) {}

ProxyHeartbeat::~ProxyHeartbeat() {
  stop();
}

void ProxyHeartbeat::applied(std::int64_t revision) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (revision == report_.revision) return;
    report_.revision = revision;
    due_ = true;
  }
  wake_.notify_one();
}

void ProxyHeartbeat::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void ProxyHeartbeat::stop() {
  ProxyReport last;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    last = report_;
  }
  wake_.notify_one();
  if (!thread_.joinable()) return;
  thread_.join();
  // A clean stop says so: stale at once, so that writes no longer wait for this proxy while it
  // drains (a crash is noticed after three missed beats instead). Only on a store that took
  // the last beat: reconnecting to one that is away could hold the shutdown up.
  last.leaving = true;
  if (last.revision >= 0 && store_ && failure_.empty()) beat(last);
}

void ProxyHeartbeat::failed(const std::string& message) {
  store_.reset();  // reopened at the next beat: the file may have been replaced or upgraded
  if (message == failure_) return;
  failure_ = message;
  logWarn("proxy row not written to " + where_.describe() + ": " + message +
          " (serving goes on; retried every heartbeat)");
}

void ProxyHeartbeat::beat(const ProxyReport& report) {
  try {
    if (!store_) store_ = openStore(where_, Store::Access::ReadOnly);
    store_->reportProxy(report);
    if (!failure_.empty()) {
      logLine("proxy row written to " + where_.describe() + " again");
      failure_.clear();
    }
  } catch (const StoreBusy&) {
    // Another writer holds the store: the next beat catches up.
  } catch (const std::exception& e) {
    failed(e.what());
  }
}

void ProxyHeartbeat::run() {
  auto next = std::chrono::steady_clock::now();
  auto written = next - kMinGap;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_until(lock, next, [this] { return stopping_ || due_; });
    if (stopping_) return;
    // Rows at least kMinGap apart, each with the latest revision: a store taking hundreds of
    // changes a second (each announced to every proxy on PostgreSQL) gets a few dozen rows a
    // second from each proxy, not one per change.
    if (wake_.wait_until(lock, written + kMinGap, [this] { return stopping_; })) return;
    if (report_.revision < 0) {  // nothing served yet: nothing to say
      next = std::chrono::steady_clock::now() + interval_;
      due_ = false;
      continue;
    }
    const ProxyReport report = report_;
    due_ = false;
    lock.unlock();
    // A skipped beat (even one for a new revision) waits for the next interval like any other:
    // trying again at once would add to the load of a store that is busy already.
    beat(report);
    lock.lock();
    written = std::chrono::steady_clock::now();
    next = written + interval_;
  }
}

}  // namespace portico
