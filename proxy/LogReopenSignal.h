#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace portico {

/// SIGUSR1 reopens the access log, as `nginx -s reopen` does, so logrotate can move the file
/// away. The signal is blocked in every thread and taken by this one thread with sigwait, so
/// it never interrupts (or, unhandled, ends) the process.
class LogReopenSignal {
 public:
  /// Blocks SIGUSR1 in the calling thread and in every thread it starts afterwards: call it
  /// before any thread exists.
  static void blockInAllThreads();

  /// Calls `reopen` on each SIGUSR1 until destroyed.
  explicit LogReopenSignal(std::function<void()> reopen);
  ~LogReopenSignal();
  LogReopenSignal(const LogReopenSignal&) = delete;
  LogReopenSignal& operator=(const LogReopenSignal&) = delete;

 private:
  std::function<void()> reopen_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace portico
