#include "app/PorticoApplication.h"

#include <Poco/AutoPtr.h>
#include <Poco/File.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <csignal>
#include <iostream>

#include "base/Errors.h"
#include "base/Log.h"
#include "store/factory/StoreFactory.h"

namespace portico {

using Poco::Util::Option;
using Poco::Util::OptionSet;

PorticoApplication::PorticoApplication(std::string description)
    : description_(std::move(description)) {
  setUnixOptions(true);
  // POCO blocks the termination signals only once start-up is done and it waits for one. A
  // SIGTERM that came earlier (a service manager stopping a process that just bound its port)
  // took the default action and killed the process mid-start; blocked from the first
  // instruction on, in every thread that inherits the mask, it waits for that sigwait instead,
  // and start-up (bounded: no step waits for anything) ends with a clean stop.
  sigset_t termination;
  sigemptyset(&termination);
  sigaddset(&termination, SIGINT);
  sigaddset(&termination, SIGQUIT);
  sigaddset(&termination, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &termination, nullptr);
}

void PorticoApplication::defineOptions(OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(
      Option("help", "h", "print this help and exit").required(false).repeatable(false));
  options.addOption(
      Option("check", "t", "check the configuration and the store, print the result and exit")
          .required(false)
          .repeatable(false));
  options.addOption(Option("config", "c", "read configuration from FILE (a properties file)")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE"));
  options.addOption(
      Option("define", "D", "set a configuration key, overriding the file (repeatable)")
          .required(false)
          .repeatable(true)
          .argument("key=value"));
}

void PorticoApplication::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "help") {
    helpRequested_ = true;
    stopOptionsProcessing();
  } else if (name == "check") {
    checkRequested_ = true;
  } else if (name == "config") {
    configFile_ = value;
  } else if (name == "define") {
    defines_.push_back(value);  // split in loadFiles(), where a malformed one is reported
  }
}

void PorticoApplication::loadFiles() {
  std::string file = configFile_;
  if (file.empty() && Poco::File("conf/portico.properties").exists())
    file = "conf/portico.properties";
  if (!file.empty()) {
    if (!Poco::File(file).exists())
      throw ConfigError("--config", "file '" + file + "' does not exist");
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> properties;
    try {
      properties = Poco::makeAuto<Poco::Util::PropertyFileConfiguration>(file);
    } catch (const Poco::Exception& e) {
      throw ConfigError("--config", "cannot read '" + file + "': " + e.displayText());
    }
    Settings::rejectUnknownSections(*properties);
    config().add(properties, 0, false);
  }
  auto overrides = Poco::makeAuto<Poco::Util::MapConfiguration>();
  for (const auto& define : defines_) {
    const auto [key, value] = Settings::parseDefine(define);
    overrides->setString(key, value);
  }
  Settings::rejectUnknownSections(*overrides);
  config().add(overrides, -200, false);
}

int PorticoApplication::main(const std::vector<std::string>&) {
  if (helpRequested_) {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[--config=FILE] [--define=key=value ...] [--check]");
    help.setHeader(description_);
    help.format(std::cout);
    return EXIT_OK;
  }
  Settings settings;
  try {
    loadFiles();
    settings = Settings::load(config());
  } catch (const ConfigError& e) {
    std::cerr << commandName() << ": invalid configuration: " << e.what() << std::endl;
    return kExitConfig;
  }
  Log::configure(commandName(), settings.log.level, settings.log.format);
  if (checkRequested_) {
    try {
      check(settings);
    } catch (const ConfigError& e) {
      std::cerr << commandName() << ": invalid configuration: " << e.what() << std::endl;
      return kExitConfig;
    } catch (const StoreError& e) {
      std::cerr << commandName() << ": " << settings.storeLocation().describe() << ": " << e.what()
                << std::endl;
      return kExitConfig;
    }
    std::cout << commandName() << ": configuration ok" << std::endl;
    return EXIT_OK;
  }
  return run(settings);
}

void PorticoApplication::check(const Settings& settings) {
  checkStoreSchema(settings.storeLocation());
}

}  // namespace portico
