#include "LogReopenSignal.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <ctime>

namespace portico {
namespace {

sigset_t reopenSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  return set;
}

}  // namespace

void LogReopenSignal::blockInAllThreads() {
  const sigset_t set = reopenSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

LogReopenSignal::LogReopenSignal(std::function<void()> reopen) : reopen_(std::move(reopen)) {
  thread_ = std::thread([this] {
    const sigset_t set = reopenSignals();
    // Woken every 200 ms to notice the destructor; a signal in between waits in the kernel.
    const timespec slice{0, 200 * 1000 * 1000};
    while (!stop_) {
      if (sigtimedwait(&set, nullptr, &slice) == SIGUSR1) reopen_();
    }
  });
}

LogReopenSignal::~LogReopenSignal() {
  stop_ = true;
  thread_.join();
}

}  // namespace portico
