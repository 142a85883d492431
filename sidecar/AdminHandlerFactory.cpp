#include "AdminHandlerFactory.h"

#include "AdminRequestHandler.h"

namespace portico {

AdminHandlerFactory::AdminHandlerFactory(AdminApi& api, const Dashboard& dashboard,
                                         std::string token)
    : api_(api), dashboard_(dashboard), token_(std::move(token)) {}

Poco::Net::HTTPRequestHandler* AdminHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest&) {
  return new AdminRequestHandler(api_, dashboard_, token_);  // POCO owns and deletes the handler
}

}  // namespace portico
