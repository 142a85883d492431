#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <string>

namespace portico {

class AdminApi;

/// Hands every admin connection's requests to an AdminRequestHandler.
class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminHandlerFactory(AdminApi& api, std::string token);
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  AdminApi& api_;
  std::string token_;
};

}  // namespace portico
