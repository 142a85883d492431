#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace portico::ctl {

/// The command line cannot be run as written (exit 2); `what()` says why in one line.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

/// One option a command takes: `--name VALUE` (or `--name=VALUE`), or a flag `--name`.
struct OptionSpec {
  std::string name;  // with its dashes: "--weight", "-f"
  bool takesValue;
  std::string help;
};

struct Invocation;

/// A command of portico-ctl: the words that name it, its arguments and options, the output
/// formats it knows, and a check of its arguments' values beyond their count.
struct CommandSpec {
  std::vector<std::string> words;  // {"route", "create"}
  std::string args;                // "ROUTE URL..." as its usage shows it
  std::size_t minArgs;
  std::size_t maxArgs;  // kMany: as many as given
  std::vector<OptionSpec> options;
  std::vector<std::string> outputs;  // the -o values it takes; the first is the default
  std::string summary;
  std::function<void(const Invocation&)> check;  // throws UsageError; may be empty

  static constexpr std::size_t kMany = static_cast<std::size_t>(-1);
  std::string name() const;
};

/// A parsed command line: what to run, against which sidecar, printed how.
struct Invocation {
  const CommandSpec* spec = nullptr;  // null: no command (general help)
  std::vector<std::string> args;
  std::map<std::string, std::string> options;  // "--weight" -> "5"; a flag maps to ""
  std::string server;                          // http://host:port, no trailing slash
  std::string token;
  std::string host;  // the route's host ("" for any host)
  std::string output;
  bool help = false;

  bool has(const std::string& option) const { return options.count(option) != 0; }
  std::string option(const std::string& name, const std::string& fallback = "") const;
};

using Environment = std::function<std::string(const std::string&)>;

/// Every command portico-ctl knows, in the order its help lists them.
const std::vector<CommandSpec>& commandSpecs();

/// Parses argv after the program name. `env` answers PORTICO_SERVER and PORTICO_TOKEN ("" when
/// unset). Throws UsageError for anything that cannot run; `--help` anywhere is never an error
/// once the command's words are known.
Invocation parseArgs(const std::vector<std::string>& argv, const Environment& env);

/// The help text of one command, or of the whole program when `spec` is null.
std::string usageText(const CommandSpec* spec);

/// A decimal integer in [min, max] (the whole of `text`), else UsageError naming `what`.
long long parseInteger(const std::string& text, long long min, long long max,
                       const std::string& what);

}  // namespace portico::ctl
