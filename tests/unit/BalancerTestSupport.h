#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "balance/Balancer.h"
#include "model/Normalize.h"

namespace portico::test {

using Targets = std::vector<std::shared_ptr<TargetState>>;

/// Target states for `urls`, as a route snapshot would hold them.
inline Targets targets(const std::vector<std::string>& urls) {
  Targets out;
  for (const auto& u : urls) out.push_back(std::make_shared<TargetState>(parseTargetUrl(u)));
  return out;
}

/// `n` distinct targets http://10.0.0.1:8080, http://10.0.0.2:8080, ...
inline Targets targets(std::size_t n) {
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < n; ++i)
    urls.push_back("http://10.0.0." + std::to_string(i + 1) + ":8080");
  return targets(urls);
}

/// Candidates over `ts` with `weights` (the default weight for each when none are given), all
/// warm (no slow start under way).
inline std::vector<Candidate> candidates(const Targets& ts, const std::vector<int>& weights = {}) {
  std::vector<Candidate> out;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    Candidate c;
    c.target = ts[i];
    c.weight = i < weights.size() ? weights[i] : kDefaultWeight;
    out.push_back(c);
  }
  return out;
}

/// A balancer of `kind` over `ts` with `weights`.
inline std::unique_ptr<const Balancer> balancer(BalancerKind kind, const Targets& ts,
                                                const std::vector<int>& weights = {}) {
  return makeBalancer(kind, candidates(ts, weights));
}

/// Every candidate may be picked.
struct AllowAll : CandidateFilter {
  bool allowed(std::size_t) const override { return true; }
};

/// The listed candidates (unhealthy, cooling down, already tried) may not be picked.
struct Deny : CandidateFilter {
  std::set<std::size_t> denied;
  explicit Deny(std::set<std::size_t> d) : denied(std::move(d)) {}
  bool allowed(std::size_t i) const override { return denied.count(i) == 0; }
};

}  // namespace portico::test
