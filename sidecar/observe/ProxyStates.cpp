#include "observe/ProxyStates.h"

#include <algorithm>

namespace portico {

std::string toString(ProxyState state) {
  switch (state) {
    case ProxyState::Live:
      return "live";
    case ProxyState::Behind:
      return "behind";
    case ProxyState::Stale:
      return "stale";
    case ProxyState::Forgotten:
      return "forgotten";
  }
  return "stale";
}

ProxyState proxyState(const ProxyRecord& proxy, const ProxyRoster& roster,
                      const ProxyStateRules& rules) {
  const std::int64_t silent = roster.nowMs - proxy.lastSeenMs;
  if (silent > rules.forgetAfter.count()) return ProxyState::Forgotten;
  if (silent > rules.staleBeats * proxy.heartbeatMs) return ProxyState::Stale;
  if (proxy.revision >= roster.revision) return ProxyState::Live;
  // Behind since the first change it lacks; a history trimmed past it means long ago.
  const bool longBehind =
      !proxy.behindSinceMs || roster.nowMs - *proxy.behindSinceMs > rules.behindAfter.count();
  return longBehind ? ProxyState::Behind : ProxyState::Live;
}

AppliedBy appliedBy(const ProxyRoster& roster, std::int64_t revision,
                    const ProxyStateRules& rules) {
  AppliedBy by;
  for (const auto& p : roster.proxies) {
    const auto state = proxyState(p, roster, rules);
    if (state != ProxyState::Live && state != ProxyState::Behind) continue;
    ++by.following;
    if (p.revision >= revision) ++by.applied;
  }
  return by;
}

ProxyCensus ProxyCensus::of(const ProxyRoster& roster, const ProxyStateRules& rules) {
  ProxyCensus c;
  for (const auto& p : roster.proxies) {
    switch (proxyState(p, roster, rules)) {
      case ProxyState::Live:
        ++c.live;
        break;
      case ProxyState::Behind:
        ++c.behind;
        break;
      case ProxyState::Stale:
        ++c.stale;
        continue;
      case ProxyState::Forgotten:
        continue;
    }
    c.lagRevisions = std::max(c.lagRevisions, roster.revision - p.revision);
    if (p.behindSinceMs)
      c.lagSeconds =
          std::max(c.lagSeconds, static_cast<double>(roster.nowMs - *p.behindSinceMs) / 1000.0);
  }
  return c;
}

}  // namespace portico
