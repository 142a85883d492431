#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <cstddef>
#include <string>

namespace portico {

class AdminApi;
class Dashboard;

/// The HTTP edge of the admin API: the status page's static files, bearer-token check, the
/// 1 MiB body limit, If-Match and the client's address in, and AdminApi's answer out (with the
/// ETag of the revision it reflects). One per request.
class AdminRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  static constexpr std::size_t kMaxBody = 1024 * 1024;

  AdminRequestHandler(AdminApi& api, const Dashboard& dashboard, const std::string& token);
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  bool authorized(const Poco::Net::HTTPServerRequest& request) const;

  AdminApi& api_;
  const Dashboard& dashboard_;
  const std::string& token_;
};

}  // namespace portico
