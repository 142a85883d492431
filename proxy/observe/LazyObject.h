#pragma once

#include <atomic>
#include <memory>
#include <mutex>

namespace portico {

/// An object made the first time it is needed, then read with one atomic load: for state most
/// instances never use (the metric series of routes and targets that never serve a request).
/// The first get() takes the owner's lock once.
template <typename T>
class LazyObject {
 public:
  LazyObject() = default;
  ~LazyObject() { delete object_.load(std::memory_order_acquire); }
  LazyObject(const LazyObject&) = delete;
  LazyObject& operator=(const LazyObject&) = delete;

  /// The object, made by `make()` (a std::unique_ptr<T>) under `creating` the first time.
  template <typename Make>
  T& get(std::mutex& creating, Make&& make) {
    T* held = object_.load(std::memory_order_acquire);
    if (held) return *held;
    std::lock_guard<std::mutex> lock(creating);
    held = object_.load(std::memory_order_relaxed);
    if (!held) {
      held = make().release();
      object_.store(held, std::memory_order_release);
    }
    return *held;
  }

  /// The object if made, else null.
  T* peek() const { return object_.load(std::memory_order_acquire); }

 private:
  std::atomic<T*> object_{nullptr};
};

}  // namespace portico
