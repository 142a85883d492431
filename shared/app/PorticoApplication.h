#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>
#include <vector>

#include "config/Settings.h"

namespace portico {

/// Exit status for a configuration the program refuses (EX_CONFIG).
constexpr int kExitConfig = 78;

/// The command line both programs share: --config/-c, --define/-D (repeatable), --check/-t,
/// --help. Subclasses implement run(settings); bad configuration ends the program with one line
/// naming the key before anything binds. --check (as `nginx -t`) validates the configuration and
/// the store's schema, prints `configuration ok` or the error, and exits 0 or 78 without binding
/// or writing anything.
class PorticoApplication : public Poco::Util::ServerApplication {
 public:
  explicit PorticoApplication(std::string description);
  using Poco::Util::ServerApplication::run;  // run(argc, argv), not hidden by run(settings)

 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

  /// Serves until terminated; returns the exit status.
  virtual int run(const Settings& settings) = 0;
  /// What --check verifies beyond the keys themselves; throws ConfigError or StoreError. The
  /// default opens the store read-only, when it exists, and checks its schema version.
  virtual void check(const Settings& settings);

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void loadFiles();

  std::string description_;
  std::string configFile_;
  std::vector<std::string> defines_;  // key=value, as given
  bool helpRequested_{false};
  bool checkRequested_{false};
};

}  // namespace portico
