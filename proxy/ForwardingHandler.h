#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <memory>
#include <string>

#include "ProxyContext.h"
#include "RouteTable.h"

namespace portico {

/// Forwards one request to a target of its route and streams the answer back: picks a healthy
/// target, tries the next one when a connection is refused before anything was sent, maps
/// upstream failures to 502/503/504 JSON, tunnels WebSocket upgrades, logs one access line.
class ForwardingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  /// `route` keeps its snapshot alive for the whole exchange. `target` is the request target
  /// as routed (dot segments resolved); empty means the request's own.
  ForwardingHandler(const ProxyContext& context, std::shared_ptr<const Route> route,
                    std::string target = {});
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  const ProxyContext& context_;
  std::shared_ptr<const Route> route_;
  std::string target_;
};

}  // namespace portico
