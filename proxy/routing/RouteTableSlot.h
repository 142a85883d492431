#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "routing/RouteTable.h"

namespace portico {

/// Where the reloader publishes the current RouteTable and request threads read it without a
/// shared lock: each thread keeps its own reference and takes the mutex only when the version
/// counter says a newer table exists (std::atomic<std::shared_ptr> is not available in C++17,
/// and std::atomic_load on shared_ptr uses a global lock pool in libstdc++).
class RouteTableSlot {
 public:
  RouteTableSlot();
  RouteTableSlot(const RouteTableSlot&) = delete;
  RouteTableSlot& operator=(const RouteTableSlot&) = delete;

  /// The latest table, as seen by this thread; valid until this thread calls current() again
  /// (copy the shared_ptr to keep it longer).
  const std::shared_ptr<const RouteTable>& current() const;

  /// Makes `table` the current one. The one it replaces is kept until collectRetired() finds
  /// no thread holding it any more: a table is freed on the publishing thread, not on an event
  /// loop that happened to let go of it last (at 25,000 routes that is 25,000 reference counts
  /// dropped, a millisecond or more a loop would not serve requests).
  void publish(std::shared_ptr<const RouteTable> table);
  /// Frees the replaced tables no thread holds any more; returns how many are still held.
  std::size_t collectRetired();

  /// The latest table, under the lock (for the reloader and tests; not the request path).
  std::shared_ptr<const RouteTable> latest() const;

 private:
  const std::uint64_t id_;  // tells this slot's entry in a thread's cache from another slot's
  std::atomic<std::uint64_t> version_{1};
  mutable std::mutex mutex_;
  std::shared_ptr<const RouteTable> table_;
  std::vector<std::shared_ptr<const RouteTable>> retired_;  // replaced, maybe still held
};

}  // namespace portico
