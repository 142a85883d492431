#include "AdminHandlerFactory.h"

#include "AdminRequestHandler.h"

namespace portico {

AdminHandlerFactory::AdminHandlerFactory(AdminApi& api, std::string token, SidecarMetrics* metrics)
    : api_(api), token_(std::move(token)), metrics_(metrics) {}

Poco::Net::HTTPRequestHandler* AdminHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest&) {
  return new AdminRequestHandler(api_, token_, metrics_);  // POCO owns and deletes the handler
}

}  // namespace portico
