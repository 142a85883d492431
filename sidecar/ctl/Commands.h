#pragma once

#include <iosfwd>
#include <string>

#include "ctl/ApiClient.h"
#include "ctl/CtlArgs.h"

namespace portico::ctl {

/// What a command runs with: its parsed line, the API, and where to read and write.
struct CommandContext {
  const Invocation& inv;
  const ApiClient& api;
  std::ostream& out;
  std::istream& in;

  bool json() const { return inv.output == "json"; }
  /// prefixPath (the first argument unless given) and host as query parameters.
  QueryParams route(const std::string& prefix) const;
};

/// Runs one command; returns its exit code. Throws ApiFailure, SidecarUnreachable, UsageError.
using CommandHandler = int (*)(CommandContext&);

/// The handler of a parsed command (every spec of commandSpecs() has one).
CommandHandler handlerFor(const CommandSpec& spec);

// Targets and routes (TargetCommands.cpp, RouteCommands.cpp).
int runRoutes(CommandContext& ctx);
int runTargets(CommandContext& ctx);
int runAdd(CommandContext& ctx);
int runRemove(CommandContext& ctx);
int runWeight(CommandContext& ctx);
int runState(CommandContext& ctx);  // drain, enable, disable
int runRouteCreate(CommandContext& ctx);
int runRouteDelete(CommandContext& ctx);
// Configuration as code (ConfigCommands.cpp).
int runConfigGet(CommandContext& ctx);
int runConfigDiff(CommandContext& ctx);
int runConfigApply(CommandContext& ctx);
int runRevert(CommandContext& ctx);
// What happened and who follows (HistoryCommands.cpp).
int runHistory(CommandContext& ctx);
int runProxies(CommandContext& ctx);
int runStatus(CommandContext& ctx);

}  // namespace portico::ctl
