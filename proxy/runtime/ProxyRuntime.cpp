#include "runtime/ProxyRuntime.h"

#include <Poco/Environment.h>

#include <chrono>
#include <csignal>
#include <stdexcept>

#include "base/Errors.h"
#include "routing/TableGauges.h"

namespace portico {
namespace {

// The version a proxy reports in its row (PORTICO_VERSION from the build, else "dev").
#ifndef PORTICO_VERSION
#define PORTICO_VERSION "dev"
#endif

ProxyReport proxyReport(const Settings& settings, const std::vector<std::string>& addresses) {
  ProxyReport r;
  r.addresses = addresses;
  r.id = settings.proxy.id;
  if (r.id.empty()) {
    const auto& first = addresses.front();
    r.id = Poco::Environment::nodeName() + first.substr(first.rfind(':'));
  }
  r.version = PORTICO_VERSION;
  r.startedAtMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  r.heartbeatMs = settings.proxy.heartbeatInterval.count();
  r.forgetAfterMs = settings.proxy.forgetAfter.count();
  return r;
}

}  // namespace

ProxyRuntime::ProxyRuntime(const Settings& settings, std::size_t loops,
                           SnapshotReloader::DroppedTargets dropped,
                           const std::vector<std::string>& addresses)
    : metrics_(std::make_unique<ProxyMetrics>(loops)),
      context_{UpstreamTimeouts{settings.proxy.connectTimeout, settings.proxy.readTimeout},
               TrustedProxies(settings.proxy.trustedProxies),
               std::make_unique<AccessLog>(settings.proxy.accessLog,
                                           AccessLog::parseFormat(settings.proxy.accessLogFormat)),
               settings.proxy.statusEnabled ? metrics_.get() : nullptr},
      reloader_(settings.storeLocation(), settings.proxy.reloadInterval, slot_, loops,
                std::move(dropped), context_.metrics) {
  context_.retryBuffer = static_cast<std::size_t>(settings.proxy.retryBuffer);
  try {
    context_.upstreamTls = std::make_shared<const net::TlsClientConfig>(
        settings.upstreamTls.verify, settings.upstreamTls.caFile);
  } catch (const std::runtime_error& e) {
    throw ConfigError("upstream_tls.ca_file", e.what());
  }
  context_.traceSample = settings.proxy.traceSample;
  metrics_->watch(tableView([this] { return slot_.latest(); }));
  // A client or backend that hangs up mid-write must cost an error code, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (!addresses.empty()) {
    heartbeat_ = std::make_unique<ProxyHeartbeat>(settings.storeLocation(),
                                                  proxyReport(settings, addresses));
    reloader_.onApplied([this](std::int64_t revision) { heartbeat_->applied(revision); });
  }
  // The first snapshot is read before serving, so a ready store routes the first request.
  reloader_.pollOnce(true);
  reloader_.start();
  if (heartbeat_) heartbeat_->start();
}

ProxyRuntime::~ProxyRuntime() {
  stopReloading();
}

void ProxyRuntime::stopReloading() {
  reloader_.stop();
  if (heartbeat_) heartbeat_->stop();
}

std::string ProxyRuntime::reopenLogs() {
  return context_.accessLog->reopen();
}

}  // namespace portico
