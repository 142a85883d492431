#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <cstddef>
#include <string>

namespace portico {

class AdminApi;

/// The HTTP edge of the admin API: bearer-token check, the 1 MiB body limit, and writing
/// AdminApi's answer as JSON. One per request.
class AdminRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  static constexpr std::size_t kMaxBody = 1024 * 1024;

  AdminRequestHandler(AdminApi& api, const std::string& token);
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  bool authorized(const Poco::Net::HTTPServerRequest& request) const;

  AdminApi& api_;
  const std::string& token_;
};

}  // namespace portico
