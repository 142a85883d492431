#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace portico {

/// An array made by the first thread that needs it: most routes and targets never need theirs
/// (a route's per-client buckets, a target's per-loop idle lists), and at 25,000 routes making
/// them up front was most of the proxy's memory (issue 22). Two threads asking at once each
/// make one; a compare-and-swap keeps the first and frees the other unused. Holds one pointer:
/// the owner knows the count. After it is made the array is read without a lock (acquire).
template <typename T>
class LazyArray {
 public:
  LazyArray() = default;
  ~LazyArray() { delete[] items_.load(std::memory_order_acquire); }
  LazyArray(const LazyArray&) = delete;
  LazyArray& operator=(const LazyArray&) = delete;

  /// The array if someone made it, else null. Any thread.
  T* peek() const { return items_.load(std::memory_order_acquire); }

  /// The array, made now with `count` items if nobody has (every caller passes the same count).
  T* get(std::size_t count) {
    T* held = items_.load(std::memory_order_acquire);
    if (held) return held;
    auto made = std::make_unique<T[]>(count);
    if (items_.compare_exchange_strong(held, made.get(), std::memory_order_acq_rel))
      return made.release();
    return held;  // another thread made it first: `made` is freed here
  }

 private:
  std::atomic<T*> items_{nullptr};
};

}  // namespace portico
