#pragma once

#include <chrono>
#include <cstdint>

#include "observe/ProxyStates.h"

namespace portico {

class Store;

/// `?wait=`: holds an admin answer until every proxy that follows the store (live or behind)
/// serves a revision, or the wait is over, by reading the proxies table every `poll`. The
/// rows are written by the proxies right after they apply a revision, so the answer goes out
/// one poll after the last of them serves it. Blocks the calling (worker) thread.
class RevisionWait {
 public:
  static constexpr std::chrono::milliseconds kMaxWait{60000};

  explicit RevisionWait(Store& store, ProxyStateRules rules = {},
                        std::chrono::milliseconds poll = std::chrono::milliseconds(10));

  const ProxyStateRules& rules() const { return rules_; }
  void setRules(const ProxyStateRules& rules) { rules_ = rules; }

  /// Who serves `revision` once all following proxies do, or when `wait` (at most kMaxWait)
  /// has passed; with a zero wait, at once. Throws the store's errors.
  AppliedBy await(std::int64_t revision, std::chrono::milliseconds wait) const;

 private:
  Store& store_;
  ProxyStateRules rules_;
  const std::chrono::milliseconds poll_;
};

}  // namespace portico
