// portico-proxy: the data plane as a program, a thin shell around ProxyServer (event loops).

#include <Poco/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "Errors.h"
#include "Log.h"
#include "LogReopenSignal.h"
#include "PorticoApplication.h"
#include "ProxyServer.h"

namespace portico {

/// Serves the data plane until SIGTERM/SIGINT; SIGUSR1 reopens the access log.
class ProxyApplication : public PorticoApplication {
 public:
  using Poco::Util::ServerApplication::run;  // run(argc, argv) for POCO_SERVER_MAIN
  ProxyApplication()
      : PorticoApplication("Portico data plane: routes requests to the store's targets.") {
    // Before any thread exists, so that every thread inherits the blocked signal.
    LogReopenSignal::blockInAllThreads();
  }

 protected:
  int run(const Settings& settings) override {
    std::unique_ptr<ProxyServer> server;
    try {
      server = std::make_unique<ProxyServer>(settings);
    } catch (const ConfigError& e) {
      std::cerr << commandName() << ": invalid configuration: " << e.what() << std::endl;
      return kExitConfig;
    } catch (const StoreError& e) {
      std::cerr << commandName() << ": cannot use store '" << settings.storePath
                << "': " << e.what() << std::endl;
      return EXIT_SOFTWARE;
    } catch (const std::system_error& e) {
      std::cerr << commandName() << ": cannot listen on proxy.host:proxy.port "
                << settings.proxy.host << ":" << settings.proxy.port << ": "
                << e.code().message() << std::endl;
      return EXIT_UNAVAILABLE;
    }
    server->start();
    const LogReopenSignal reopenOnUsr1([&server] {
      const std::string error = server->reopenLogs();
      logLine(error.empty() ? std::string("portico-proxy: access log reopened")
                            : "portico-proxy: access log not reopened: " + error);
    });
    logLine("portico-proxy listening on " + settings.proxy.host + ":" +
            std::to_string(server->port()) + ", store " + settings.storePath + ", " +
            std::to_string(server->workers()) + " event loops");
    if (settings.proxy.threads != 0)
      logLine("portico-proxy: proxy.threads is obsolete and ignored (see proxy.workers)");
    waitForTerminationRequest();
    logLine("portico-proxy stopping");
    if (!server->stop(settings.proxy.drainTimeout)) {
      logLine("portico-proxy: requests still waiting on upstreams after the grace period; exiting");
      std::fflush(nullptr);
      std::_Exit(EXIT_OK);
    }
    return EXIT_OK;
  }
};

}  // namespace portico

POCO_SERVER_MAIN(portico::ProxyApplication)
