#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <string>

namespace portico {

class AdminApi;
class Dashboard;
class SidecarMetrics;

/// Hands every admin connection's requests (the API's and the status page's) to an
/// AdminRequestHandler.
class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  /// `metrics` (may be null) counts requests and is served at /metrics.
  AdminHandlerFactory(AdminApi& api, const Dashboard& dashboard, std::string token,
                      SidecarMetrics* metrics = nullptr);
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  AdminApi& api_;
  const Dashboard& dashboard_;
  std::string token_;
  SidecarMetrics* metrics_;
};

}  // namespace portico
