#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <cstddef>
#include <string>

namespace portico {

class AdminApi;
class SidecarMetrics;

/// The HTTP edge of the admin API: bearer-token check, the 1 MiB body limit, and writing
/// AdminApi's answer as JSON. Also serves GET /metrics (outside admin.prefix, behind the same
/// token) and counts every answer. One per request.
class AdminRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  static constexpr std::size_t kMaxBody = 1024 * 1024;
  static const char* const kMetricsPath;

  AdminRequestHandler(AdminApi& api, const std::string& token, SidecarMetrics* metrics = nullptr);
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  bool authorized(const Poco::Net::HTTPServerRequest& request) const;

  AdminApi& api_;
  const std::string& token_;
  SidecarMetrics* metrics_;
};

}  // namespace portico
