#include "routing/RouteTableSlot.h"

#include <algorithm>
#include <iterator>

namespace portico {
namespace {

std::atomic<std::uint64_t> nextSlotId{1};

/// One thread's view of the last slot it read (a process normally has one slot).
struct ThreadView {
  std::uint64_t slot{0};
  std::uint64_t version{0};
  std::shared_ptr<const RouteTable> table;
};

thread_local ThreadView view;

}  // namespace

RouteTableSlot::RouteTableSlot()
    : id_(nextSlotId.fetch_add(1, std::memory_order_relaxed)),
      table_(std::make_shared<RouteTable>()) {}

const std::shared_ptr<const RouteTable>& RouteTableSlot::current() const {
  const std::uint64_t version = version_.load(std::memory_order_acquire);
  if (view.slot != id_ || view.version != version) {
    std::lock_guard<std::mutex> lock(mutex_);
    view.table = table_;
    view.version = version_.load(std::memory_order_relaxed);
    view.slot = id_;
  }
  return view.table;
}

void RouteTableSlot::publish(std::shared_ptr<const RouteTable> table) {
  std::lock_guard<std::mutex> lock(mutex_);
  retired_.push_back(std::move(table_));
  table_ = std::move(table);
  version_.fetch_add(1, std::memory_order_release);
}

std::size_t RouteTableSlot::collectRetired() {
  std::vector<std::shared_ptr<const RouteTable>> done;
  std::size_t left = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Held only here: no thread can take it again (they copy table_), so it is ours to free.
    const auto unused = [](const std::shared_ptr<const RouteTable>& t) {
      return t.use_count() == 1;
    };
    const auto kept = std::stable_partition(retired_.begin(), retired_.end(),
                                            [&](const auto& t) { return !unused(t); });
    std::move(kept, retired_.end(), std::back_inserter(done));
    retired_.erase(kept, retired_.end());
    left = retired_.size();
  }
  return left;  // `done` is freed here, outside the lock
}

std::shared_ptr<const RouteTable> RouteTableSlot::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return table_;
}

}  // namespace portico
