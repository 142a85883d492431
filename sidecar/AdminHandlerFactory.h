#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <string>

namespace portico {

class AdminApi;
class Dashboard;

/// Hands every admin connection's requests (the API's and the status page's) to an
/// AdminRequestHandler.
class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminHandlerFactory(AdminApi& api, const Dashboard& dashboard, std::string token);
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  AdminApi& api_;
  const Dashboard& dashboard_;
  std::string token_;
};

}  // namespace portico
