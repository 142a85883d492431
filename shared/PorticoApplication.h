#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>
#include <vector>

#include "Settings.h"

namespace portico {

/// Exit status for a configuration the program refuses (EX_CONFIG).
constexpr int kExitConfig = 78;

/// The command line both programs share: --config/-c, --define/-D (repeatable), --help.
/// Subclasses implement run(settings); bad configuration ends the program with one line
/// naming the key before anything binds.
class PorticoApplication : public Poco::Util::ServerApplication {
 public:
  explicit PorticoApplication(std::string description);

 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

  /// Serves until terminated; returns the exit status.
  virtual int run(const Settings& settings) = 0;

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void loadFiles();

  std::string description_;
  std::string configFile_;
  std::vector<std::string> defines_;  // key=value, as given
  bool helpRequested_{false};
};

}  // namespace portico
