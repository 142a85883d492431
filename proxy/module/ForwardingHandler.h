#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <memory>
#include <string>

#include "forward/ProxyContext.h"
#include "routing/RouteTable.h"

namespace portico {

/// The module's way of forwarding one request: the same ForwardingPolicy as the event loops,
/// carried out with blocking I/O on the host server's thread (POCO's HTTPServer gives each
/// request a thread). Streams bodies both ways, tunnels WebSocket upgrades, logs one line.
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
