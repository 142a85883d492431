#include "ctl/CtlArgs.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <sstream>

namespace portico::ctl {

namespace {

const char* const kDefaultServer = "http://127.0.0.1:9090";

const std::vector<OptionSpec>& globalOptions() {
  static const std::vector<OptionSpec> options{
      {"--server", true,
       "the sidecar's admin API (PORTICO_SERVER; default " + std::string(kDefaultServer) + ")"},
      {"--token", true, "admin.token, sent as 'Authorization: Bearer' (PORTICO_TOKEN)"},
      {"--host", true, "the host of the route (default: the any-host route)"},
      {"-o", true, "output: a table (default) or json"},
      {"--output", true, "the same as -o"},
      {"--help", false, "this help"},
      {"-h", false, "the same as --help"},
  };
  return options;
}

const std::vector<std::string> kTableJson{"table", "json"};

void checkWeightOption(const Invocation& inv) {
  if (inv.has("--weight")) parseInteger(inv.option("--weight"), 0, 1000, "--weight");
}

void checkRoute(const std::string& route) {
  if (route.empty()) throw UsageError("ROUTE is empty (the any-prefix route is /)");
}

void checkHistory(const Invocation& inv) {
  if (inv.has("--since")) parseInteger(inv.option("--since"), 0, INT64_MAX, "--since");
  if (inv.has("--limit")) parseInteger(inv.option("--limit"), 1, 1000, "--limit");
  if (inv.has("--interval")) parseInteger(inv.option("--interval"), 1, 3600000, "--interval");
}

using Check = std::function<void(const Invocation&)>;

CommandSpec spec(std::vector<std::string> words, std::string args, std::size_t minArgs,
                 std::size_t maxArgs, std::string summary, Check check = {},
                 std::vector<OptionSpec> options = {},
                 std::vector<std::string> outputs = kTableJson) {
  return {std::move(words),   std::move(args),    minArgs,         maxArgs, std::move(options),
          std::move(outputs), std::move(summary), std::move(check)};
}

void checkRouteArg(const Invocation& inv) {
  checkRoute(inv.args.at(0));
}

void appendTargetSpecs(std::vector<CommandSpec>& specs) {
  const auto many = CommandSpec::kMany;
  specs.push_back(spec({"routes"}, "", 0, 0, "every route with its targets' health"));
  specs.push_back(
      spec({"targets"}, "ROUTE", 1, 1, "a route's targets: weight, state, health", checkRouteArg));
  specs.push_back(spec({"add"}, "ROUTE URL...", 2, many, "add targets to a route",
                       [](const Invocation& inv) {
                         checkRouteArg(inv);
                         checkWeightOption(inv);
                       },
                       {{"--weight", true, "the new targets' weight (0-1000, default 100)"}}));
  specs.push_back(
      spec({"remove"}, "ROUTE URL...", 2, many, "remove targets from a route", checkRouteArg));
  specs.push_back(spec({"weight"}, "ROUTE URL N", 3, 3, "set a target's weight (0-1000)",
                       [](const Invocation& inv) {
                         checkRouteArg(inv);
                         parseInteger(inv.args.at(2), 0, 1000, "N (the weight)");
                       }));
  specs.push_back(spec({"drain"}, "ROUTE URL", 2, 2,
                       "no new requests to a target; those in flight finish", checkRouteArg));
  specs.push_back(
      spec({"enable"}, "ROUTE URL", 2, 2, "a target takes requests again (active)", checkRouteArg));
  specs.push_back(spec({"disable"}, "ROUTE URL", 2, 2,
                       "no requests to a target and no health checks", checkRouteArg));
  specs.push_back(spec({"route", "create"}, "ROUTE [URL...]", 1, many,
                       "create a route, with targets if given", checkRouteArg,
                       {{"--balancer", true, "round_robin (default), least_conn or ip_hash"},
                        {"--health-type", true, "tcp or http"},
                        {"--health-path", true, "the path of http health checks"},
                        {"--health-interval", true, "time between checks (5s)"}}));
  specs.push_back(
      spec({"route", "delete"}, "ROUTE", 1, 1, "delete a route and its targets", checkRouteArg));
}

void checkFile(const Invocation& inv) {
  if (!inv.has("-f")) throw UsageError("-f FILE is required");
}

void appendConfigSpecs(std::vector<CommandSpec>& specs) {
  const OptionSpec file{"-f", true, "the configuration file, YAML or JSON ('-': standard input)"};
  const OptionSpec dryRun{"--dry-run", false, "show the changes, make none"};
  specs.push_back(spec({"config", "get"}, "", 0, 0, "the whole configuration as one document", {},
                       {}, {"yaml", "json"}));
  specs.push_back(
      spec({"config", "diff"}, "", 0, 0, "what applying a file would change", checkFile, {file}));
  specs.push_back(spec({"config", "apply"}, "", 0, 0,
                       "make the store equal to a file (one revision)", checkFile, {file, dryRun}));
  specs.push_back(
      spec({"revert"}, "REVISION", 1, 1, "put everything back as it stood right after REVISION",
           [](const Invocation& inv) { parseInteger(inv.args.at(0), 0, INT64_MAX, "REVISION"); },
           {dryRun}));
}

void appendHistorySpecs(std::vector<CommandSpec>& specs) {
  specs.push_back(
      spec({"history"}, "", 0, 0, "the change history, oldest first", checkHistory,
           {{"--since", true, "rows after this revision (default: 20 revisions back)"},
            {"--route", true, "only this route's rows"},
            {"--target", true, "only this target's rows"},
            {"--limit", true, "rows per request (1-1000, default 100)"},
            {"--follow", false, "keep printing new rows until interrupted"},
            {"--interval", true, "with --follow, milliseconds between reads (default 1000)"}}));
  specs.push_back(spec({"proxies"}, "", 0, 0, "the proxies that follow the store"));
  specs.push_back(spec({"status"}, "", 0, 0, "revision, routes, targets and proxies at a glance"));
}

std::vector<CommandSpec> buildSpecs() {
  std::vector<CommandSpec> specs;
  appendTargetSpecs(specs);
  appendConfigSpecs(specs);
  appendHistorySpecs(specs);
  return specs;
}

/// Whether `name` is an option that takes a value, across every command; throws if unknown.
bool takesValue(const std::string& name) {
  for (const auto& o : globalOptions())
    if (o.name == name) return o.takesValue;
  for (const auto& s : commandSpecs())
    for (const auto& o : s.options)
      if (o.name == name) return o.takesValue;
  throw UsageError("unknown option " + name);
}

const CommandSpec* findSpec(const std::vector<std::string>& positionals, bool help) {
  const CommandSpec* best = nullptr;
  for (const auto& s : commandSpecs()) {
    if (positionals.size() < s.words.size()) continue;
    if (std::equal(s.words.begin(), s.words.end(), positionals.begin())) best = &s;
  }
  if (best || positionals.empty()) return best;
  const auto& first = positionals.front();
  const bool group = first == "route" || first == "config";
  if (group && help && positionals.size() == 1) return nullptr;
  if (group)
    throw UsageError("'" + first + "' needs a subcommand: " +
                     (first == "route" ? "create or delete" : "get, diff or apply"));
  throw UsageError("unknown command '" + first + "' (portico-ctl --help lists them)");
}

struct RawArgs {
  std::vector<std::string> positionals;
  std::map<std::string, std::string> options;
};

RawArgs splitArgs(const std::vector<std::string>& argv) {
  RawArgs raw;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      raw.positionals.insert(raw.positionals.end(),
                             argv.begin() + static_cast<std::ptrdiff_t>(i + 1), argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      raw.positionals.push_back(a);
      continue;
    }
    std::string name = a, value;
    const auto eq = a.find('=');
    const bool inlineValue = eq != std::string::npos;
    if (inlineValue) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    const bool wantsValue = takesValue(name);
    if (!wantsValue && inlineValue) throw UsageError(name + " takes no value");
    if (wantsValue && !inlineValue) {
      if (i + 1 >= argv.size()) throw UsageError(name + " needs a value");
      value = argv[++i];
    }
    if (name == "--output") name = "-o";
    if (name == "-h") name = "--help";
    if (raw.options.count(name)) throw UsageError(name + " given more than once");
    raw.options[name] = value;
  }
  return raw;
}

std::string trimServer(std::string server) {
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.rfind("http://", 0) != 0)
    throw UsageError("--server '" + server + "' is not http://host[:port]");
  return server;
}

void applyGlobals(Invocation& inv, std::map<std::string, std::string>& options,
                  const Environment& env) {
  const auto take = [&](const std::string& name, std::string fallback) {
    auto it = options.find(name);
    if (it == options.end()) return fallback;
    std::string value = it->second;
    options.erase(it);
    return value;
  };
  inv.help = options.erase("--help") != 0;
  std::string server = take("--server", env("PORTICO_SERVER"));
  inv.server = trimServer(server.empty() ? kDefaultServer : server);
  inv.token = take("--token", env("PORTICO_TOKEN"));
  inv.host = take("--host", "");
  inv.output = take("-o", "");
}

void checkCommand(Invocation& inv) {
  const CommandSpec& s = *inv.spec;
  for (const auto& option : inv.options) {
    // Not a structured binding: C++17 lambdas cannot capture one (clang refuses, GCC allows).
    const std::string& name = option.first;
    if (std::none_of(s.options.begin(), s.options.end(),
                     [&](const OptionSpec& o) { return o.name == name; }))
      throw UsageError("'" + s.name() + "' takes no option " + name);
  }
  if (inv.args.size() < s.minArgs) throw UsageError("'" + s.name() + "' needs " + s.args);
  if (inv.args.size() > s.maxArgs)
    throw UsageError("'" + s.name() + "' takes " + (s.args.empty() ? "no arguments" : s.args) +
                     ", not '" + inv.args[s.maxArgs] + "'");
  if (inv.output.empty()) inv.output = s.outputs.front();
  if (std::find(s.outputs.begin(), s.outputs.end(), inv.output) == s.outputs.end())
    throw UsageError("'" + s.name() + "' has no output '" + inv.output + "'");
  if (s.check) s.check(inv);
}

}  // namespace

std::string CommandSpec::name() const {
  std::string n;
  for (const auto& w : words) n += (n.empty() ? "" : " ") + w;
  return n;
}

std::string Invocation::option(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

const std::vector<CommandSpec>& commandSpecs() {
  static const std::vector<CommandSpec> specs = buildSpecs();
  return specs;
}

long long parseInteger(const std::string& text, long long min, long long max,
                       const std::string& what) {
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  const long long value = digits ? std::strtoll(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || value < min || value > max)
    throw UsageError(what + " must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not '" + text + "'");
  return value;
}

Invocation parseArgs(const std::vector<std::string>& argv, const Environment& env) {
  RawArgs raw = splitArgs(argv);
  Invocation inv;
  applyGlobals(inv, raw.options, env);
  inv.spec = findSpec(raw.positionals, inv.help);
  if (!inv.spec) {
    if (!inv.help) throw UsageError("no command given (portico-ctl --help lists them)");
    return inv;
  }
  inv.args.assign(raw.positionals.begin() + static_cast<std::ptrdiff_t>(inv.spec->words.size()),
                  raw.positionals.end());
  inv.options = std::move(raw.options);
  if (!inv.help) checkCommand(inv);
  return inv;
}

}  // namespace portico::ctl

namespace portico::ctl {

namespace {

void appendOptions(std::ostringstream& out, const std::vector<OptionSpec>& options) {
  for (const auto& o : options) {
    std::string left = o.name + (o.takesValue ? " VALUE" : "");
    if (left.size() < 22) left.resize(22, ' ');
    out << "  " << left << "  " << o.help << "\n";
  }
}

}  // namespace

std::string usageText(const CommandSpec* spec) {
  std::ostringstream out;
  if (!spec) {
    out << "usage: portico-ctl [--server URL] [--token TOKEN] [--host HOST] [-o FORMAT] "
           "COMMAND [ARGS]\n\nThe command line of Portico's admin API.\n\ncommands:\n";
    for (const auto& s : commandSpecs()) {
      std::string left = s.name() + (s.args.empty() ? "" : " " + s.args);
      const bool file = std::any_of(s.options.begin(), s.options.end(),
                                    [](const OptionSpec& o) { return o.name == "-f"; });
      if (file) left += " -f FILE";
      if (left.size() < 28) left.resize(28, ' ');
      out << "  " << left << "  " << s.summary << "\n";
    }
    out << "\nglobal options:\n";
    appendOptions(out, globalOptions());
    out << "\nexit status: 0 done, 1 the API refused (its message is printed), 2 usage,\n"
           "3 conflict (409 or 412: read again and retry), 4 the sidecar cannot be reached.\n"
           "'portico-ctl COMMAND --help' describes one command.\n";
    return out.str();
  }
  out << "usage: portico-ctl " << spec->name() << (spec->args.empty() ? "" : " " + spec->args);
  for (const auto& o : spec->options) out << " [" << o.name << (o.takesValue ? " VALUE]" : "]");
  out << "\n\n" << spec->summary << ".\n";
  if (!spec->options.empty()) {
    out << "\noptions:\n";
    appendOptions(out, spec->options);
  }
  out << "\noutput (-o): ";
  for (std::size_t i = 0; i < spec->outputs.size(); ++i)
    out << (i ? ", " : "") << spec->outputs[i] << (i ? "" : " (default)");
  out << "\nglobal options: --server, --token, --host, -o (portico-ctl --help)\n";
  return out.str();
}

}  // namespace portico::ctl
