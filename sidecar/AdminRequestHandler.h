#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <cstddef>
#include <string>

namespace portico {

class AdminApi;
class Dashboard;
class SidecarMetrics;

/// The HTTP edge of the admin API: the status page's static files, bearer-token check, the
/// 1 MiB body limit, If-Match and the client's address in, and AdminApi's answer out (with the
/// ETag of the revision it reflects). Also serves GET /metrics (outside admin.prefix, behind
/// the same token) and counts every answer. One per request.
class AdminRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  static constexpr std::size_t kMaxBody = 1024 * 1024;
  static const char* const kMetricsPath;
  /// The `endpoint` label of the status page's files.
  static const char* const kStatusPageEndpoint;

  AdminRequestHandler(AdminApi& api, const Dashboard& dashboard, const std::string& token,
                      SidecarMetrics* metrics = nullptr);
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  bool authorized(const Poco::Net::HTTPServerRequest& request) const;

  AdminApi& api_;
  const Dashboard& dashboard_;
  const std::string& token_;
  SidecarMetrics* metrics_;
};

}  // namespace portico
