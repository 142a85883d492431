#include "module/ProxyModule.h"

#include <Poco/Net/HTTPServerRequest.h>

#include "module/ForwardingHandler.h"
#include "module/RejectHandler.h"
#include "routing/RequestRouting.h"
#include "runtime/ProxyRuntime.h"

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
  RequestRouting routing = RequestRouting::of(*table, request.getURI(), request.getHost());
  if (routing.route) {
    // The handler shares ownership of the snapshot its route belongs to. POCO's interface hands
    // handlers over as raw pointers; the server connection deletes each after its request.
    return new ForwardingHandler(context, std::shared_ptr<const Route>(table, routing.route),
                                 std::move(routing.resolved));
  }
  // Not a path of any route: the embedding application judges its own.
  if (impl_->fallback) return impl_->fallback->createRequestHandler(request);
  return new RejectHandler(
      context, static_cast<Poco::Net::HTTPResponse::HTTPStatus>(routing.status), routing.message);
}

}  // namespace portico
