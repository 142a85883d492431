#include "routing/RouteTableSlot.h"

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
  std::shared_ptr<const RouteTable> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    old = std::move(table_);
    table_ = std::move(table);
    version_.fetch_add(1, std::memory_order_release);
  }
  // `old` is released outside the lock (threads may still hold it until their next request).
}

std::shared_ptr<const RouteTable> RouteTableSlot::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return table_;
}

}  // namespace portico
