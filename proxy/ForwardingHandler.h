#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <memory>

#include "ProxyContext.h"
#include "RouteTable.h"

namespace portico {

/// Forwards one request to a target of its route and streams the answer back: picks a healthy
/// target, tries the next one when a connection is refused before anything was sent, maps
/// upstream failures to 502/503/504 JSON, tunnels WebSocket upgrades, logs one access line.
class ForwardingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  /// `route` keeps its snapshot alive for the whole exchange.
  ForwardingHandler(const ProxyContext& context, std::shared_ptr<const Route> route);
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  const ProxyContext& context_;
  std::shared_ptr<const Route> route_;
};

/// Answers requests no route matches (when the embedding application supplied no fallback).
class NoRouteHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit NoRouteHandler(const ProxyContext& context) : context_(context) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  const ProxyContext& context_;
};

}  // namespace portico
