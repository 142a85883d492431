#include "admin/RevisionWait.h"

#include <algorithm>
#include <thread>

#include "store/Store.h"

namespace portico {

RevisionWait::RevisionWait(Store& store, ProxyStateRules rules, std::chrono::milliseconds poll)
    : store_(store), rules_(rules), poll_(poll) {}

AppliedBy RevisionWait::await(std::int64_t revision, std::chrono::milliseconds wait) const {
  const auto deadline = std::chrono::steady_clock::now() + std::min(wait, kMaxWait);
  for (;;) {
    const AppliedBy by = appliedBy(store_.proxies(), revision, rules_);
    const auto now = std::chrono::steady_clock::now();
    if (by.everywhere() || now >= deadline) return by;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(poll_, deadline - now));
  }
}

}  // namespace portico
