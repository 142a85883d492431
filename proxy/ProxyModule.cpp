#include "ProxyModule.h"

#include <Poco/Net/HTTPServerRequest.h>

#include "ForwardingHandler.h"
#include "ProxyRuntime.h"
#include "RejectHandler.h"
#include "RoutePath.h"

namespace portico {

struct ProxyModule::Impl {
  Impl(const Settings& settings, Poco::Net::HTTPRequestHandlerFactory::Ptr fallbackFactory)
      : runtime(settings), fallback(std::move(fallbackFactory)) {}

  ProxyRuntime runtime;
  Poco::Net::HTTPRequestHandlerFactory::Ptr fallback;
};

ProxyModule::ProxyModule(const Settings& settings,
                         Poco::Net::HTTPRequestHandlerFactory::Ptr fallback)
    : impl_(std::make_unique<Impl>(settings, std::move(fallback))) {}

ProxyModule::~ProxyModule() {
  stop();
}

void ProxyModule::stop() {
  impl_->runtime.stopReloading();
}

std::string ProxyModule::reopenLogs() {
  return impl_->runtime.reopenLogs();
}

ProxyMetrics& ProxyModule::metrics() {
  return impl_->runtime.metrics();
}

bool ProxyModule::ready() const {
  return impl_->runtime.ready();
}

Poco::Net::HTTPRequestHandler* ProxyModule::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  const auto& table = impl_->runtime.slot().current();
  const ProxyContext& context = impl_->runtime.context();
  const std::string& uri = request.getURI();
  // Routing sees the path with "." and ".." resolved, as nginx does: "/api/../admin" must not
  // reach the /api/ targets as "/../admin", which their servers would resolve above the route.
  std::string resolved;
  if (RoutePath::hasDotSegment(RoutePath::path(uri))) {
    auto r = RoutePath::resolveDotSegments(uri);
    if (!r) {
      // Not a path of any route; the embedding application judges its own.
      if (impl_->fallback) return impl_->fallback->createRequestHandler(request);
      return new RejectHandler(context, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST,
                               "bad request path: '..' climbs above the root");
    }
    resolved = std::move(*r);
  }
  if (const Route* route = table->match(resolved.empty() ? uri : resolved)) {
    // The handler shares ownership of the snapshot its route belongs to. POCO's interface hands
    // handlers over as raw pointers; the server connection deletes each after its request.
    return new ForwardingHandler(context, std::shared_ptr<const Route>(table, route),
                                 std::move(resolved));
  }
  if (impl_->fallback) return impl_->fallback->createRequestHandler(request);
  return new RejectHandler(context, Poco::Net::HTTPResponse::HTTP_NOT_FOUND,
                           "no route for " + std::string(RoutePath::path(uri)));
}

}  // namespace portico
