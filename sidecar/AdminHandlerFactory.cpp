#include "AdminHandlerFactory.h"

#include "AdminRequestHandler.h"

namespace portico {

AdminHandlerFactory::AdminHandlerFactory(AdminApi& api, const Dashboard& dashboard,
                                         std::string token, SidecarMetrics* metrics)
    : api_(api), dashboard_(dashboard), token_(std::move(token)), metrics_(metrics) {}

Poco::Net::HTTPRequestHandler* AdminHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest&) {
  // POCO owns and deletes the handler.
  return new AdminRequestHandler(api_, dashboard_, token_, metrics_);
}

}  // namespace portico
