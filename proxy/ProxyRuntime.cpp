#include "ProxyRuntime.h"

#include <csignal>

namespace portico {

ProxyRuntime::ProxyRuntime(const Settings& settings, std::size_t loops,
                           SnapshotReloader::DroppedTargets dropped)
    : metrics_(std::make_unique<ProxyMetrics>(loops)),
      context_{UpstreamTimeouts{settings.proxy.connectTimeout, settings.proxy.readTimeout},
               TrustedProxies(settings.proxy.trustedProxies),
               std::make_unique<AccessLog>(settings.proxy.accessLog,
                                           AccessLog::parseFormat(settings.proxy.accessLogFormat)),
               settings.proxy.statusEnabled ? metrics_.get() : nullptr},
      reloader_(settings.storeLocation(), settings.proxy.reloadInterval, slot_, loops, std::move(dropped),
                context_.metrics) {
  metrics_->watch([this] { return slot_.latest(); });
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
