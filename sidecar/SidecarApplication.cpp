#include "SidecarApplication.h"

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include "AdminApi.h"
#include "AdminHandlerFactory.h"
#include "Dashboard.h"
#include "Errors.h"
#include "HealthChecker.h"
#include "HealthLeases.h"
#include "Log.h"
#include "SidecarMetrics.h"
#include "StoreFactory.h"
#include "Tls.h"

namespace portico {
namespace {

constexpr int kAdminThreads = 32;
constexpr int kAdminBacklog = 1024;

}  // namespace

SidecarApplication::SidecarApplication()
    : PorticoApplication("portico-sidecar: admin API and health checker for the Portico proxy") {}

int SidecarApplication::run(const Settings& settings) {
  // http checks of https targets verify them as the proxy does (upstream_tls.*). Checked
  // before anything binds: a bad CA bundle is a configuration error.
  std::shared_ptr<const net::TlsClientConfig> tls;
  try {
    tls = std::make_shared<net::TlsClientConfig>(settings.upstreamTls.verify,
                                                 settings.upstreamTls.caFile);
  } catch (const std::exception& e) {
    std::cerr << commandName() << ": invalid configuration: upstream_tls.ca_file: " << e.what()
              << std::endl;
    return kExitConfig;
  }

  const std::string listen = settings.admin.host + ":" + std::to_string(settings.admin.port);

  // Bound before the store is touched: a second sidecar on the same port must not seed or
  // probe. Reuse-port stays off so that second instance fails here instead of sharing the port.
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(Poco::Net::SocketAddress(settings.admin.host,
                                         static_cast<Poco::UInt16>(settings.admin.port)),
                true, false);
    socket.listen(kAdminBacklog);
  } catch (const Poco::Exception& e) {
    std::cerr << commandName() << ": cannot listen on admin.host:admin.port " << listen << ": "
              << e.displayText() << std::endl;
    return EXIT_UNAVAILABLE;
  }

  std::unique_ptr<Store> store;
  try {
    store = openStore(settings.storeLocation(), Store::Access::ReadWrite);
    store->setHistoryLimit(settings.historyLimit);
    std::map<std::string, std::string> names;
    std::vector<RouteSpec> seeds;
    for (const auto& seed : settings.routes) {
      names[seed.spec.prefix] = seed.name;
      seeds.push_back(seed.spec);
    }
    for (const auto& prefix : store->seed(seeds)) {
      const auto& spec = *std::find_if(seeds.begin(), seeds.end(),
                                       [&](const RouteSpec& s) { return s.prefix == prefix; });
      logLine("created route " + prefix + " from configuration (route." + names[prefix] + ", " +
              toString(spec.balancer) + ", " + std::to_string(spec.targets.size()) + " targets)");
    }
  } catch (const StoreError& e) {
    std::cerr << commandName() << ": " << settings.storeLocation().describe() << ": " << e.what()
              << std::endl;
    return EXIT_IOERR;
  } catch (const Poco::Exception& e) {
    std::cerr << commandName() << ": " << settings.storeLocation().describe() << ": "
              << e.displayText() << std::endl;
    return EXIT_IOERR;
  }

  SidecarMetrics metrics(*store);
  store->setObserver(&metrics);
  HealthChecker checker(*store, tls);
  checker.observe(&metrics);
  // Declared after the checker, destroyed before it: it calls the checker back.
  HealthLeases leases(*store, settings.sidecar.id, settings.sidecar.leaseTimeout,
                      [&checker] { checker.selectionChanged(); });
  checker.select(&leases);
  checker.start();
  leases.start();

  AdminApi api(*store, settings.admin.prefix, settings.health,
               [&checker] { checker.notifyChanged(); });
  const Dashboard dashboard(settings.admin.prefix);
  Poco::ThreadPool pool("admin", 2, kAdminThreads);
  auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
  params->setMaxThreads(kAdminThreads);
  params->setMaxQueued(kAdminBacklog);
  params->setTimeout(Poco::Timespan(30, 0));
  params->setServerName("portico-sidecar");
  Poco::Net::HTTPServer server(
      Poco::makeShared<AdminHandlerFactory>(api, dashboard, settings.admin.token, &metrics), pool,
      socket, params);
  server.start();
  const std::string origin = "http://" + socket.address().toString();
  logLine("admin API listening on " + origin + settings.admin.prefix +
          ", metrics on /metrics, status page at " + origin + "/ (" +
          settings.storeLocation().describe() +
          (settings.admin.token.empty() ? ", no token" : ", bearer token required") +
          ", sidecar.id " + settings.sidecar.id + ")");

  waitForTerminationRequest();
  logLine("shutting down");
  server.stopAll(true);
  pool.joinAll();
  checker.stop();
  leases.stop();
  store->setObserver(nullptr);
  return EXIT_OK;
}

}  // namespace portico
