#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPResponse.h>

#include <string>

#include "forward/ProxyContext.h"

namespace portico {

/// Answers what the proxy will not forward with a JSON error: no route matches (when the
/// embedding application supplied no fallback), or a path that climbs above the root.
class RejectHandler : public Poco::Net::HTTPRequestHandler {
 public:
  RejectHandler(const ProxyContext& context, Poco::Net::HTTPResponse::HTTPStatus status,
                std::string message)
      : context_(context), status_(status), message_(std::move(message)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  const ProxyContext& context_;
  Poco::Net::HTTPResponse::HTTPStatus status_;
  std::string message_;
};

}  // namespace portico
