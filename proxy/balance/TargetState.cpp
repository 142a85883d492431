#include "balance/TargetState.h"

namespace portico {

TargetState::~TargetState() {
  delete[] idle_.load(std::memory_order_acquire);
}

IdleConnections& TargetState::idleFor(std::size_t loop) {
  assert(loop < loopCount);
  IdleConnections* lists = idle_.load(std::memory_order_acquire);
  if (!lists) {
    // Two loops may get here at once: one array wins, the other is freed unused.
    auto made = std::make_unique<IdleConnections[]>(loopCount);
    if (idle_.compare_exchange_strong(lists, made.get(), std::memory_order_acq_rel)) {
      lists = made.release();
    }
  }
  return lists[loop];
}

}  // namespace portico
