#include "balance/PickState.h"

#include <atomic>

namespace portico {

PickStates::PickStates() {
  static std::atomic<std::uint64_t> loops{0};
  seed_ = loops.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace portico
