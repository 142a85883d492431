#pragma once

#include <atomic>
#include <mutex>

namespace portico {

/// A metric series made the first time it is counted rather than when its route or target is
/// loaded: with 50,000 targets most never fail, time out or get ejected, and each series holds
/// its label values and a cell in every shard (issue 22: at most 1 KB per target). The first
/// count takes the owner's lock once; every later one reads one flag. `Series` is a
/// metrics::Counter or metrics::Histogram (small values, a default one counting nowhere).
template <typename Series>
class LazySeries {
 public:
  /// The series, made by `make()` under `creating` the first time.
  template <typename Make>
  const Series& get(std::mutex& creating, Make&& make) {
    if (made_.load(std::memory_order_acquire)) return series_;
    std::lock_guard<std::mutex> lock(creating);
    if (!made_.load(std::memory_order_relaxed)) {
      series_ = make();
      made_.store(true, std::memory_order_release);
    }
    return series_;
  }

 private:
  std::atomic<bool> made_{false};
  Series series_{};
};

}  // namespace portico
