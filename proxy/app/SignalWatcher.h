#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <thread>

namespace portico {

/// The proxy's operator signals, as nginx has them: SIGUSR1 reopens the access log (for
/// logrotate), SIGHUP re-reads the TLS certificates, SIGUSR2 upgrades the binary. The signals are
/// blocked in every thread and taken by this one thread with sigtimedwait, so they never interrupt
/// (or, unhandled, end) the process.
class SignalWatcher {
 public:
  /// Blocks SIGUSR1, SIGHUP and SIGUSR2 in the calling thread and in every thread it starts
  /// afterwards: call it before any thread exists.
  static void blockInAllThreads();

  /// Calls actions[signal] on each signal until destroyed.
  explicit SignalWatcher(std::map<int, std::function<void()>> actions);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::map<int, std::function<void()>> actions_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace portico
