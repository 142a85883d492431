#pragma once

#include <condition_variable>
#include <mutex>

#include "store/ChangeFeed.h"

namespace portico {

/// A feed that announces nothing: every wait lasts its whole timeout (an SQLite store is
/// polled).
class TimedChangeFeed final : public ChangeFeed {
 public:
  bool wait(std::chrono::milliseconds timeout) override;
  void interrupt() override;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool interrupted_{false};
};

}  // namespace portico
