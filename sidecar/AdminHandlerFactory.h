#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <string>

namespace portico {

class AdminApi;
class SidecarMetrics;

/// Hands every admin connection's requests to an AdminRequestHandler.
class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  /// `metrics` (may be null) counts requests and is served at /metrics.
  AdminHandlerFactory(AdminApi& api, std::string token, SidecarMetrics* metrics = nullptr);
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  AdminApi& api_;
  std::string token_;
  SidecarMetrics* metrics_;
};

}  // namespace portico
