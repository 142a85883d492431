#include "routing/RouteSettings.h"

namespace portico {
namespace {

std::shared_ptr<const RouteSettings> made(const RoutePolicies& policies, std::string_view prefix) {
  auto settings = std::make_shared<RouteSettings>();
  settings->policies = policies;
  settings->rules = RequestRules::of(policies.request, prefix);
  return settings;
}

}  // namespace

std::shared_ptr<const RouteSettings> RouteSettings::of(
    const RoutePolicies& policies, std::string_view prefix,
    const std::shared_ptr<const RouteSettings>& before) {
  // The rules depend on the prefix only where the policy keeps or rewrites it: with the
  // default policy (strip the prefix) one instance serves every route.
  static const RoutePolicies kDefaults{};
  static const std::shared_ptr<const RouteSettings> kDefault = made(kDefaults, "/");
  if (policies == kDefaults) return kDefault;
  if (before && before->policies == policies) return before;  // the same route: the same prefix
  return made(policies, prefix);
}

}  // namespace portico
