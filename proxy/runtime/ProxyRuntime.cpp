#include "runtime/ProxyRuntime.h"

#include <csignal>
#include <stdexcept>

#include "base/Errors.h"
#include "routing/TableGauges.h"

namespace portico {

ProxyRuntime::ProxyRuntime(const Settings& settings, std::size_t loops,
                           SnapshotReloader::DroppedTargets dropped)
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
  metrics_->watch(tableView([this] { return slot_.latest(); }));
  // A client or backend that hangs up mid-write must cost an error code, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  // The first snapshot is read before serving, so a ready store routes the first request.
  reloader_.pollOnce(true);
  reloader_.start();
}

ProxyRuntime::~ProxyRuntime() {
  stopReloading();
}

void ProxyRuntime::stopReloading() {
  reloader_.stop();
}

std::string ProxyRuntime::reopenLogs() {
  return context_.accessLog->reopen();
}

}  // namespace portico
