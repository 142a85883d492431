#pragma once

#include <cstddef>
#include <string>

#include "http/server/HttpService.h"

namespace portico {

class AdminApi;
class Dashboard;
class SidecarMetrics;
struct AdminResponse;

/// The admin listener's service behind the shared HttpServer (which does the HTTP framing,
/// limits and timeouts): the status page's static files, bearer-token check, If-Match and the
/// client's address in, and AdminApi's answer out (with the ETag of the revision it reflects).
/// Also serves GET /metrics (outside admin.prefix, behind the same token) and counts every
/// answer, the HTTP layer's refusals included. Runs on the server's worker threads.
class AdminRequestHandler : public http::HttpService {
 public:
  static constexpr std::size_t kMaxBody = 1024 * 1024;
  static const char* const kMetricsPath;
  /// The `endpoint` label of the status page's files.
  static const char* const kStatusPageEndpoint;

  /// `metrics` (may be null) counts requests and is served at /metrics.
  AdminRequestHandler(AdminApi& api, const Dashboard& dashboard, std::string token,
                      SidecarMetrics* metrics = nullptr);

  http::ServerResponse handle(const http::ServerRequest& request) override;
  http::ServerResponse refused(const http::ServerRequest& request,
                               http::ServerResponse answer) override;
  void refusedUnparsed(int status) override;

 private:
  bool authorized(const http::ServerRequest& request) const;
  AdminResponse answer(const http::ServerRequest& request, std::string& endpoint);
  static http::ServerResponse toHttp(const AdminResponse& answer);

  AdminApi& api_;
  const Dashboard& dashboard_;
  const std::string token_;
  SidecarMetrics* metrics_;
};

}  // namespace portico
