#include "app/SidecarApplication.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <system_error>

#include "admin/AdminApi.h"
#include "admin/AdminRequestHandler.h"
#include "admin/Dashboard.h"
#include "app/ServiceManager.h"
#include "base/Errors.h"
#include "base/Log.h"
#include "health/HealthChecker.h"
#include "health/HealthLeases.h"
#include "http/server/HttpServer.h"
#include "net/InheritedListeners.h"
#include "net/Tls.h"
#include "observe/SidecarMetrics.h"
#include "store/factory/StoreFactory.h"

namespace portico {
namespace {

constexpr int kAdminBacklog = 1024;
// Threads that run admin requests (store reads and writes); the connections themselves cost no
// thread, so slow clients do not use these up.
constexpr std::size_t kAdminWorkers = 4;

/// A start-up step that failed: the program prints `message` after its name and exits `status`.
struct StartFailure {
  int status;
  std::string message;
};

/// http checks of https targets verify them as the proxy does (upstream_tls.*). Checked before
/// anything binds: a bad CA bundle is a configuration error.
std::shared_ptr<const net::TlsClientConfig> upstreamTls(const Settings& settings) {
  try {
    return std::make_shared<net::TlsClientConfig>(settings.upstreamTls.verify,
                                                  settings.upstreamTls.caFile);
  } catch (const std::exception& e) {
    throw StartFailure{kExitConfig,
                       std::string("invalid configuration: upstream_tls.ca_file: ") + e.what()};
  }
}

/// Bound before the store is touched: a second sidecar on the same port must not seed or probe.
/// Reuse-port stays off so that second instance fails here instead of sharing the port. A socket
/// handed over by systemd (portico-sidecar.socket) is served instead: it stays open while the
/// sidecar restarts, so clients wait in its queue rather than being refused.
net::FileDescriptor listenAdmin(const AdminSettings& admin) {
  try {
    auto inherited = net::InheritedListeners::fromEnvironment().takeRest();
    if (!inherited.empty()) {
      // One admin listener: any further socket is closed with the rest of what was handed over.
      net::setNonBlocking(inherited.front().get(), true);
      logLine("serving the admin socket systemd handed over");
      return std::move(inherited.front());
    }
  } catch (const std::runtime_error& e) {
    throw StartFailure{Poco::Util::Application::EXIT_UNAVAILABLE,
                       std::string("cannot use the sockets handed over: ") + e.what()};
  }
  try {
    return net::listenTcp(admin.host, static_cast<std::uint16_t>(admin.port), kAdminBacklog);
  } catch (const std::system_error& e) {
    throw StartFailure{Poco::Util::Application::EXIT_UNAVAILABLE,
                       "cannot listen on admin.host:admin.port " + admin.host + ":" +
                           std::to_string(admin.port) + ": " + e.code().message()};
  }
}

/// Creates the routes the configuration declares and the store has never seen.
void seedRoutes(Store& store, const std::vector<RouteSeed>& routes) {
  std::map<RouteKey, std::string> names;
  std::vector<RouteSpec> seeds;
  for (const auto& seed : routes) {
    names[seed.spec.key()] = seed.name;
    seeds.push_back(seed.spec);
  }
  for (const auto& key : store.seed(seeds)) {
    const auto& spec = *std::find_if(seeds.begin(), seeds.end(),
                                     [&](const RouteSpec& s) { return s.key() == key; });
    logLine("created route " + key.text() + " from configuration (route." + names[key] + ", " +
            toString(spec.balancer) + ", " + std::to_string(spec.targets.size()) + " targets)");
  }
}

std::unique_ptr<Store> openSeededStore(const Settings& settings) {
  const int status = Poco::Util::Application::EXIT_IOERR;
  const std::string where = settings.storeLocation().describe() + ": ";
  try {
    auto store = openStore(settings.storeLocation(), Store::Access::ReadWrite);
    store->setHistoryLimit(settings.historyLimit);
    seedRoutes(*store, settings.routes);
    return store;
  } catch (const StoreError& e) {
    throw StartFailure{status, where + e.what()};
  } catch (const Poco::Exception& e) {
    throw StartFailure{status, where + e.displayText()};
  }
}

http::HttpServerLimits adminLimits(const AdminSettings& admin) {
  http::HttpServerLimits limits;
  limits.headerTimeout = admin.clientHeaderTimeout;
  limits.bodyTimeout = admin.clientBodyTimeout;
  limits.maxBodyBytes = AdminRequestHandler::kMaxBody;
  limits.workers = kAdminWorkers;
  return limits;
}

void logListening(const Settings& settings, int port) {
  const auto& admin = settings.admin;
  const std::string host = admin.host.find(':') != std::string::npos && admin.host.front() != '['
                               ? "[" + admin.host + "]"
                               : admin.host;
  const std::string origin = "http://" + host + ":" + std::to_string(port);
  logLine("admin API listening on " + origin + admin.prefix +
          ", metrics on /metrics, status page at " + origin + "/ (" +
          settings.storeLocation().describe() +
          (admin.token.empty() ? ", no token" : ", bearer token required") + ", sidecar.id " +
          settings.sidecar.id + ")");
}

}  // namespace

SidecarApplication::SidecarApplication()
    : PorticoApplication("portico-sidecar: admin API and health checker for the Portico proxy") {}

int SidecarApplication::run(const Settings& settings) {
  try {
    auto tls = upstreamTls(settings);
    net::FileDescriptor socket = listenAdmin(settings.admin);
    std::unique_ptr<Store> store = openSeededStore(settings);
    serve(settings, *store, std::move(tls), std::move(socket));
    return EXIT_OK;
  } catch (const StartFailure& failure) {
    std::cerr << commandName() << ": " << failure.message << std::endl;
    return failure.status;
  }
}

void SidecarApplication::serve(const Settings& settings, Store& store,
                               std::shared_ptr<const net::TlsClientConfig> tls,
                               net::FileDescriptor socket) {
  ProxyStateRules proxyRules;
  proxyRules.forgetAfter = settings.proxy.forgetAfter;
  SidecarMetrics metrics(store);
  metrics.setProxyRules(proxyRules);
  store.setObserver(&metrics);
  HealthCheckerOptions checking;
  checking.keepAliveMax = settings.sidecar.keepAliveMax;
  HealthChecker checker(store, std::move(tls), checking);
  checker.observe(&metrics);
  // Declared after the checker, destroyed before it: it calls the checker back.
  HealthLeases leases(store, settings.sidecar.id, settings.sidecar.leaseTimeout,
                      [&checker] { checker.selectionChanged(); });
  checker.select(&leases);
  checker.start();
  leases.start();

  AdminApi api(store, settings.admin.prefix, settings.health,
               [&checker] { checker.notifyChanged(); });
  api.setProxyRules(proxyRules);
  const Dashboard dashboard(settings.admin.prefix);
  AdminRequestHandler handler(api, dashboard, settings.admin.token, &metrics);
  const int port = net::localPort(socket.get());
  http::HttpServer server(std::move(socket), handler, adminLimits(settings.admin),
                          "portico-sidecar");
  server.start();
  logListening(settings, port);
  ServiceManager::ready("admin API on port " + std::to_string(port));
  // Alive: the admin loop ran the task the previous ping posted.
  std::atomic<bool> answered{true};
  ServiceManager service;
  service.startWatchdog([&server, &answered] {
    const bool alive = answered.exchange(false);
    server.loop().post([&answered] { answered = true; });
    return alive;
  });

  waitForTerminationRequest();
  service.stopWatchdog();
  ServiceManager::stopping();
  logLine("shutting down");
  server.stop();
  checker.stop();
  leases.stop();
  store.setObserver(nullptr);
}

}  // namespace portico
