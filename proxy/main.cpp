// portico-proxy: the data plane as a program, a thin shell around ProxyServer (event loops).

#include <Poco/Exception.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "app/BinaryUpgrade.h"
#include "app/CertificateMetrics.h"
#include "app/PorticoApplication.h"
#include "app/ServiceManager.h"
#include "app/SignalWatcher.h"
#include "app/StatusServer.h"
#include "base/Errors.h"
#include "base/Log.h"
#include "forward/TrustedProxies.h"
#include "loop/ProxyServer.h"
#include "net/InheritedListeners.h"
#include "observe/AccessLog.h"

namespace portico {

/// Serves the data plane until SIGTERM/SIGINT; SIGUSR1 reopens the access log, SIGHUP re-reads
/// the TLS certificates, SIGUSR2 starts the binary anew on the same sockets (BinaryUpgrade) and
/// drains once it serves. The status listener (metrics, health, readiness) runs beside it unless
/// proxy.status_port is off. Sockets handed over by systemd or a binary upgrade are served
/// instead of binding proxy.port, proxy.tls.port and proxy.status_port.
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
    const int readyPipe = BinaryUpgrade::takeReadyPipe();
    upgrade_ = std::make_unique<BinaryUpgrade>(BinaryUpgrade::ofThisProcess(argv()));
    std::unique_ptr<ProxyServer> server;
    std::unique_ptr<StatusServer> status;
    if (const int failed = open(settings, server, status)) return failed;
    if (status) status->start();
    server->start();
    std::atomic<bool> replaced{false};
    const SignalWatcher signals({{SIGUSR1, [&server] { reopenLogs(*server); }},
                                 {SIGHUP, [&server] { server->reloadCertificates(); }},
                                 {SIGUSR2, [&] { upgrade(*server, status.get(), replaced); }}});
    logStarted(settings, *server, status.get());
    BinaryUpgrade::reportReady(readyPipe);
    ServiceManager::ready("serving on port " + std::to_string(server->port()));
    ServiceManager service;
    service.startWatchdog([&server] { return server->loopsAnswering(); });
    waitForTerminationRequest();
    service.stopWatchdog();
    // A replaced process is no longer the service's: STOPPING=1 would stop its successor.
    if (!replaced) ServiceManager::stopping();
    if (!replaced) logLine("stopping");
    if (status) status->stop();
    // After an upgrade idle keep-alive clients get a second (at most half the drain) to send
    // what may already be on its way to this process.
    const auto idleGrace = replaced ? std::min<std::chrono::milliseconds>(
                                          std::chrono::seconds(1), settings.proxy.drainTimeout / 2)
                                    : std::chrono::milliseconds(0);
    if (!server->stop(settings.proxy.drainTimeout, idleGrace)) {
      logWarn("requests still waiting on upstreams after the grace period; exiting");
      std::fflush(nullptr);
      std::_Exit(EXIT_OK);
    }
    return EXIT_OK;
  }

 private:
  static void reopenLogs(ProxyServer& server) {
    const std::string error = server.reopenLogs();
    if (error.empty()) {
      logLine("access log reopened");
    } else {
      logError("access log not reopened: " + error);
    }
  }

  /// SIGUSR2 (on the signal thread): the new process gets every listening socket; once it says
  /// it serves, this one is asked to terminate and drains.
  void upgrade(ProxyServer& server, const StatusServer* status, std::atomic<bool>& replaced) {
    if (replaced) return;  // a second SIGUSR2 while draining
    std::vector<net::InheritedListeners::Entry> listeners;
    for (int fd : server.listenerFds()) listeners.push_back({"http", fd});
    for (int fd : server.tlsListenerFds()) listeners.push_back({"https", fd});
    if (status) listeners.push_back({"status", status->fd()});
    ServiceManager::reloading();
    const std::string self = "pid " + std::to_string(::getpid());
    logLine("binary upgrade: " + self + " starts " + upgrade_->program());
    const auto outcome = upgrade_->run(listeners, kUpgradeTimeout);
    if (!outcome.ready) {
      logError("binary upgrade failed, " + self + " serves on: " + outcome.why);
      ServiceManager::ready("serving on port " + std::to_string(server.port()) +
                            " (the last binary upgrade failed)");
      return;
    }
    logLine("binary upgrade: pid " + std::to_string(outcome.pid) + " serves now; " + self +
            " drains");
    replaced = true;
    terminate();
  }

  /// Binds the status listener (or takes a handed-over one) and makes the server; 0, or the
  /// exit status after one line on stderr.
  int open(const Settings& settings, std::unique_ptr<ProxyServer>& server,
           std::unique_ptr<StatusServer>& status) {
    net::InheritedListeners inherited;
    try {
      inherited = net::InheritedListeners::fromEnvironment();
    } catch (const std::runtime_error& e) {
      std::cerr << commandName() << ": cannot use the sockets handed over: " << e.what()
                << std::endl;
      return EXIT_UNAVAILABLE;
    }
    if (!inherited.empty()) logLine("serving the listening sockets of " + inherited.source());
    // The status listener is bound first: a port it cannot have ends the program before the
    // data plane exists. It serves once the data plane is up (start() in run()).
    if (const int failed = openStatus(settings, inherited.take("status"), server, status))
      return failed;
    ProxyListeners listeners;
    listeners.tls = inherited.take("https");
    listeners.plain = inherited.takeRest();  // "http", or a socket unit without a name
    if (!listeners.plain.empty()) inheritedFrom_ = inherited.source();
    for (auto& fd : listeners.plain) net::setNonBlocking(fd.get(), true);
    for (auto& fd : listeners.tls) net::setNonBlocking(fd.get(), true);
    try {
      server = std::make_unique<ProxyServer>(settings, std::move(listeners));
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

  int openStatus(const Settings& settings, std::vector<net::FileDescriptor> inherited,
                 std::unique_ptr<ProxyServer>& server, std::unique_ptr<StatusServer>& status) {
    auto scrape = [&server] {
      return server->metrics().scrape() + certificateMetrics(server->tlsConfig().get());
    };
    auto ready = [&server] { return server->ready(); };
    if (!inherited.empty()) {
      status = std::make_unique<StatusServer>(std::move(inherited.front()), scrape, ready);
      return 0;
    }
    if (!settings.proxy.statusEnabled) return 0;
    try {
      status = std::make_unique<StatusServer>(settings.proxy.statusHost, settings.proxy.statusPort,
                                              scrape, ready);
    } catch (const Poco::Exception& e) {
      std::cerr << commandName() << ": cannot listen on proxy.status_host:proxy.status_port "
                << settings.proxy.statusHost << ":" << settings.proxy.statusPort << ": "
                << e.displayText() << std::endl;
      return EXIT_UNAVAILABLE;
    }
    return 0;
  }

  // How long a new binary has to start serving before SIGUSR2 gives up on it (a first route
  // table read from a remote store included).
  static constexpr std::chrono::seconds kUpgradeTimeout{30};
  std::unique_ptr<BinaryUpgrade> upgrade_;
  std::string inheritedFrom_;  // who handed the listening sockets over ("" when bound here)

  void logStarted(const Settings& settings, const ProxyServer& server,
                  const StatusServer* status) const {
    // Handed-over sockets are wherever systemd or the previous process bound them.
    const std::string where =
        inheritedFrom_.empty()
            ? settings.proxy.host + ":" + std::to_string(server.port())
            : "port " + std::to_string(server.port()) + " (the sockets of " + inheritedFrom_ + ")";
    logLine("listening on " + where + ", " + settings.storeLocation().describe() + ", " +
            std::to_string(server.workers()) + " event loops, " +
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
