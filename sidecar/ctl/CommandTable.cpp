#include <map>
#include <stdexcept>

#include "ctl/Commands.h"

namespace portico::ctl {

QueryParams CommandContext::route(const std::string& prefix) const {
  return {{"prefixPath", prefix}, {"host", inv.host}};
}

CommandHandler handlerFor(const CommandSpec& spec) {
  static const std::map<std::string, CommandHandler> handlers{
      {"routes", runRoutes},
      {"targets", runTargets},
      {"add", runAdd},
      {"remove", runRemove},
      {"weight", runWeight},
      {"drain", runState},
      {"enable", runState},
      {"disable", runState},
      {"route create", runRouteCreate},
      {"route delete", runRouteDelete},
      {"config get", runConfigGet},
      {"config diff", runConfigDiff},
      {"config apply", runConfigApply},
      {"revert", runRevert},
      {"history", runHistory},
      {"proxies", runProxies},
      {"status", runStatus},
  };
  const auto it = handlers.find(spec.name());
  if (it == handlers.end()) throw std::logic_error("no handler for '" + spec.name() + "'");
  return it->second;
}

}  // namespace portico::ctl
