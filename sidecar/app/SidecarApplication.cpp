#include "app/SidecarApplication.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <system_error>

#include "admin/AdminApi.h"
#include "admin/AdminRequestHandler.h"
#include "admin/Dashboard.h"
#include "base/Errors.h"
#include "base/Log.h"
#include "health/HealthChecker.h"
#include "health/HealthLeases.h"
#include "http/server/HttpServer.h"
#include "net/Tls.h"
#include "observe/SidecarMetrics.h"
#include "store/factory/StoreFactory.h"

namespace portico {
namespace {

constexpr int kAdminBacklog = 1024;
// Threads that run admin requests (store reads and writes); the connections themselves cost no
// thread, so slow clients do not use these up.
constexpr std::size_t kAdminWorkers = 4;

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
  net::FileDescriptor socket;
  try {
    socket = net::listenTcp(settings.admin.host, static_cast<std::uint16_t>(settings.admin.port),
                            kAdminBacklog);
  } catch (const std::system_error& e) {
    std::cerr << commandName() << ": cannot listen on admin.host:admin.port " << listen << ": "
              << e.code().message() << std::endl;
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
  AdminRequestHandler handler(api, dashboard, settings.admin.token, &metrics);
  http::HttpServerLimits limits;
  limits.headerTimeout = settings.admin.clientHeaderTimeout;
  limits.bodyTimeout = settings.admin.clientBodyTimeout;
  limits.maxBodyBytes = AdminRequestHandler::kMaxBody;
  limits.workers = kAdminWorkers;
  const int port = net::localPort(socket.get());
  http::HttpServer server(std::move(socket), handler, limits, "portico-sidecar");
  server.start();
  const std::string host =
      settings.admin.host.find(':') != std::string::npos && settings.admin.host.front() != '['
          ? "[" + settings.admin.host + "]"
          : settings.admin.host;
  const std::string origin = "http://" + host + ":" + std::to_string(port);
  logLine("admin API listening on " + origin + settings.admin.prefix +
          ", metrics on /metrics, status page at " + origin + "/ (" +
          settings.storeLocation().describe() +
          (settings.admin.token.empty() ? ", no token" : ", bearer token required") +
          ", sidecar.id " + settings.sidecar.id + ")");

  waitForTerminationRequest();
  logLine("shutting down");
  server.stop();
  checker.stop();
  leases.stop();
  store->setObserver(nullptr);
  return EXIT_OK;
}

}  // namespace portico
