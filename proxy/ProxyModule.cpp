#include "ProxyModule.h"

#include <Poco/Net/HTTPServerRequest.h>

#include <csignal>

#include "ForwardingHandler.h"
#include "ProxyContext.h"
#include "ProxyMetrics.h"
#include "RejectHandler.h"
#include "RoutePath.h"
#include "RouteTableSlot.h"
#include "SnapshotReloader.h"

namespace portico {

// Threads of the thread-per-connection server share this many metric shards (an atomic add on
// a line a few threads touch); an event-loop core gives each loop its own.
constexpr std::size_t kMetricShards = 32;

struct ProxyModule::Impl {
  Impl(const Settings& settings, Poco::Net::HTTPRequestHandlerFactory::Ptr fallbackFactory)
      : metrics(kMetricShards, metrics::ShardWriters::Many),
        context{UpstreamTimeouts{settings.proxy.connectTimeout, settings.proxy.readTimeout},
                TrustedProxies(settings.proxy.trustedProxies),
                std::make_unique<AccessLog>(settings.proxy.accessLog,
                                            AccessLog::parseFormat(settings.proxy.accessLogFormat)),
                // Without the status listener nothing would read the counts: none are kept.
                settings.proxy.statusEnabled ? &metrics : nullptr},
        fallback(std::move(fallbackFactory)),
        reloader(settings.storePath, settings.proxy.reloadInterval, slot, context.metrics) {
    metrics.watch([this] { return slot.latest(); });
  }

  ProxyMetrics metrics;
  ProxyContext context;
  Poco::Net::HTTPRequestHandlerFactory::Ptr fallback;
  RouteTableSlot slot;
  SnapshotReloader reloader;
};

ProxyModule::ProxyModule(const Settings& settings,
                         Poco::Net::HTTPRequestHandlerFactory::Ptr fallback)
    : impl_(std::make_unique<Impl>(settings, std::move(fallback))) {
  // A client or backend that hangs up mid-write must cost an error code, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  // The first snapshot is read before serving, so a ready store routes the first request.
  impl_->reloader.pollOnce(true);
  impl_->reloader.start();
}

ProxyModule::~ProxyModule() {
  stop();
}

void ProxyModule::stop() {
  impl_->reloader.stop();
}

std::string ProxyModule::reopenLogs() {
  return impl_->context.accessLog->reopen();
}

ProxyMetrics& ProxyModule::metrics() {
  return impl_->metrics;
}

bool ProxyModule::ready() const {
  return impl_->metrics.ready();
}

Poco::Net::HTTPRequestHandler* ProxyModule::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  const auto& table = impl_->slot.current();
  const std::string& uri = request.getURI();
  // Routing sees the path with "." and ".." resolved, as nginx does: "/api/../admin" must not
  // reach the /api/ targets as "/../admin", which their servers would resolve above the route.
  std::string resolved;
  if (RoutePath::hasDotSegment(RoutePath::path(uri))) {
    auto r = RoutePath::resolveDotSegments(uri);
    if (!r) {
      // Not a path of any route; the embedding application judges its own.
      if (impl_->fallback) return impl_->fallback->createRequestHandler(request);
      return new RejectHandler(impl_->context, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST,
                               "bad request path: '..' climbs above the root");
    }
    resolved = std::move(*r);
  }
  if (const Route* route = table->match(resolved.empty() ? uri : resolved)) {
    // The handler shares ownership of the snapshot its route belongs to. POCO's interface hands
    // handlers over as raw pointers; the server connection deletes each after its request.
    return new ForwardingHandler(impl_->context, std::shared_ptr<const Route>(table, route),
                                 std::move(resolved));
  }
  if (impl_->fallback) return impl_->fallback->createRequestHandler(request);
  return new RejectHandler(impl_->context, Poco::Net::HTTPResponse::HTTP_NOT_FOUND,
                           "no route for " + std::string(RoutePath::path(uri)));
}

}  // namespace portico
