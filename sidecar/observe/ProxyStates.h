#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "store/ProxyRecord.h"

namespace portico {

/// What a proxy's row says of it, on the store's clock.
enum class ProxyState {
  Live,       // beating, and serving the store's revision (or behind for at most `behindAfter`)
  Behind,     // beating, but at an older revision for longer than `behindAfter`
  Stale,      // no beat for `staleBeats` of its intervals: no longer counted, no longer waited for
  Forgotten,  // no beat for `forgetAfter`: not shown (its row is deleted at the next report)
};

std::string toString(ProxyState state);

/// The rules that turn a row into a state (GET /endpoints/proxies, the metrics, `wait`).
struct ProxyStateRules {
  std::chrono::milliseconds behindAfter{1000};
  int staleBeats{3};
  std::chrono::milliseconds forgetAfter{std::chrono::hours(1)};  // proxy.forget_after
};

/// `proxy`'s state in `roster` (its revision and clock). Pure: no clock of its own.
ProxyState proxyState(const ProxyRecord& proxy, const ProxyRoster& roster,
                      const ProxyStateRules& rules);

/// How many proxies a write is served by: of those that follow the store (live or behind),
/// how many serve its revision or a later one. "Portico-Applied-By: <applied>/<following>".
struct AppliedBy {
  int applied{0};
  int following{0};

  bool everywhere() const { return applied == following; }
  std::string text() const { return std::to_string(applied) + "/" + std::to_string(following); }
};

AppliedBy appliedBy(const ProxyRoster& roster, std::int64_t revision, const ProxyStateRules& rules);

/// The roster counted by state, with the largest lag of a proxy that still follows.
struct ProxyCensus {
  int live{0};
  int behind{0};
  int stale{0};
  std::int64_t lagRevisions{0};  // the store's revision minus the oldest one served
  double lagSeconds{0};          // the longest time one has been behind

  static ProxyCensus of(const ProxyRoster& roster, const ProxyStateRules& rules);
};

}  // namespace portico
