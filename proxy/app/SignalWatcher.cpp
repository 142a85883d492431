#include "app/SignalWatcher.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <ctime>

namespace portico {
namespace {

sigset_t watchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

void SignalWatcher::blockInAllThreads() {
  const sigset_t set = watchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(std::map<int, std::function<void()>> actions)
    : actions_(std::move(actions)) {
  thread_ = std::thread([this] {
    const sigset_t set = watchedSignals();
    // Woken every 200 ms to notice the destructor; a signal in between waits in the kernel.
    const timespec slice{0, 200 * 1000 * 1000};
    while (!stop_) {
      const int signal = sigtimedwait(&set, nullptr, &slice);
      const auto it = actions_.find(signal);
      if (it != actions_.end()) it->second();
    }
  });
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  thread_.join();
}

}  // namespace portico
