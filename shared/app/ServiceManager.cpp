#include "app/ServiceManager.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "base/Log.h"

namespace portico {

void ServiceManager::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nMAINPID=%lu\nSTATUS=%s", static_cast<unsigned long>(::getpid()),
             status.c_str());
}

void ServiceManager::reloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=binary upgrade: starting the new process");
}

void ServiceManager::stopping() {
  sd_notify(0, "STOPPING=1");
}

void ServiceManager::startWatchdog(std::function<bool()> alive) {
  std::uint64_t usec = 0;
  // WATCHDOG_PID names the process systemd started; after a binary upgrade that is the old
  // one, so the upgrade drops the variable and the pings of the new process count.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  const auto every = std::chrono::microseconds(usec / 2);
  stop_ = false;
  thread_ = std::thread([this, every, alive = std::move(alive)] {
    std::unique_lock<std::mutex> lock(mutex_);
    bool silent = false;
    while (!wake_.wait_for(lock, every, [this] { return stop_; })) {
      if (alive()) {
        sd_notify(0, "WATCHDOG=1");
        silent = false;
      } else if (!silent) {
        logError("watchdog: an event loop did not answer; no longer telling systemd all is well");
        silent = true;
      }
    }
  });
}

void ServiceManager::stopWatchdog() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace portico
