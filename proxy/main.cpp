// portico-proxy: the data plane as a program, a thin shell around ProxyServer (event loops).

#include <Poco/Exception.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "app/PorticoApplication.h"
#include "app/SignalWatcher.h"
#include "app/StatusServer.h"
#include "base/Errors.h"
#include "base/Log.h"
#include "forward/TrustedProxies.h"
#include "loop/ProxyServer.h"
#include "observe/AccessLog.h"

namespace portico {

/// Serves the data plane until SIGTERM/SIGINT; SIGUSR1 reopens the access log, SIGHUP re-reads
/// the TLS certificates. The status
/// listener (metrics, health, readiness) runs beside it unless proxy.status_port is off.
class ProxyApplication : public PorticoApplication {
 public:
  using Poco::Util::ServerApplication::run;  // run(argc, argv) for POCO_SERVER_MAIN
  ProxyApplication()
      : PorticoApplication("Portico data plane: routes requests to the store's targets.") {
    // Before any thread exists, so that every thread inherits the blocked signal.
    SignalWatcher::blockInAllThreads();
  }

 protected:
  void check(const Settings& settings) override {
    PorticoApplication::check(settings);
    // What the data plane would refuse when it starts, without opening anything.
    TrustedProxies trusted(settings.proxy.trustedProxies);
    AccessLog::parseFormat(settings.proxy.accessLogFormat);
  }

  int run(const Settings& settings) override {
    std::unique_ptr<ProxyServer> server;
    std::unique_ptr<StatusServer> status;
    if (const int failed = open(settings, server, status)) return failed;
    if (status) status->start();
    server->start();
    const SignalWatcher signals({{SIGUSR1,
                                  [&server] {
                                    const std::string error = server->reopenLogs();
                                    if (error.empty()) {
                                      logLine("access log reopened");
                                    } else {
                                      logError("access log not reopened: " + error);
                                    }
                                  }},
                                 {SIGHUP, [&server] { server->reloadCertificates(); }}});
    logStarted(settings, *server, status.get());
    waitForTerminationRequest();
    logLine("stopping");
    if (status) status->stop();
    if (!server->stop(settings.proxy.drainTimeout)) {
      logWarn("requests still waiting on upstreams after the grace period; exiting");
      std::fflush(nullptr);
      std::_Exit(EXIT_OK);
    }
    return EXIT_OK;
  }

 private:
  /// Binds the status listener and makes the server; 0, or the exit status after one line
  /// on stderr.
  int open(const Settings& settings, std::unique_ptr<ProxyServer>& server,
           std::unique_ptr<StatusServer>& status) {
    // The status listener is bound first: a port it cannot have ends the program before the
    // data plane exists. It serves once the data plane is up (start() in run()).
    if (settings.proxy.statusEnabled) {
      try {
        status = std::make_unique<StatusServer>(
            settings.proxy.statusHost, settings.proxy.statusPort,
            [&server] { return server->metrics().scrape(); },
            [&server] { return server->ready(); });
      } catch (const Poco::Exception& e) {
        std::cerr << commandName() << ": cannot listen on proxy.status_host:proxy.status_port "
                  << settings.proxy.statusHost << ":" << settings.proxy.statusPort << ": "
                  << e.displayText() << std::endl;
        return EXIT_UNAVAILABLE;
      }
    }
    try {
      server = std::make_unique<ProxyServer>(settings);
    } catch (const ConfigError& e) {
      std::cerr << commandName() << ": invalid configuration: " << e.what() << std::endl;
      return kExitConfig;
    } catch (const StoreError& e) {
      std::cerr << commandName() << ": cannot use " << settings.storeLocation().describe() << ": "
                << e.what() << std::endl;
      return EXIT_SOFTWARE;
    } catch (const std::system_error& e) {
      std::cerr << commandName() << ": cannot listen on proxy.host:proxy.port "
                << settings.proxy.host << ":" << settings.proxy.port << ": " << e.code().message()
                << std::endl;
      return EXIT_UNAVAILABLE;
    }
    return 0;
  }

  static void logStarted(const Settings& settings, const ProxyServer& server,
                         const StatusServer* status) {
    logLine("listening on " + settings.proxy.host + ":" + std::to_string(server.port()) + ", " +
            settings.storeLocation().describe() + ", " + std::to_string(server.workers()) +
            " event loops, " +
            (server.tlsPort()
                 ? "TLS on " + settings.proxy.tls.host + ":" + std::to_string(server.tlsPort()) +
                       (settings.proxy.tls.http2 ? " (h2, http/1.1), " : " (http/1.1), ")
                 : std::string()) +
            (status ? "status on http://" + settings.proxy.statusHost + ":" +
                          std::to_string(status->port()) + "/metrics"
                    : std::string("status listener off")));
    if (settings.proxy.threads != 0)
      logWarn("proxy.threads is obsolete and ignored (see proxy.workers)");
    if (!settings.upstreamTls.verify)
      logWarn(
          "upstream_tls.verify=false: certificates of https targets are not checked; "
          "anyone on the path can impersonate them");
  }
};

}  // namespace portico

POCO_SERVER_MAIN(portico::ProxyApplication)
