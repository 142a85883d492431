#include "store/TimedChangeFeed.h"

namespace portico {

bool TimedChangeFeed::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return wake_.wait_for(lock, timeout, [this] { return interrupted_; });
}

void TimedChangeFeed::interrupt() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    interrupted_ = true;
  }
  wake_.notify_all();
}

}  // namespace portico
