#pragma once

namespace portico {

class RequestContext;
struct ProxyContext;

/// The end of one request as the metrics and the access log see it, for HTTP/1.1 connections
/// and HTTP/2 streams alike: one count in the metrics, one access-log line.
void logRequest(const ProxyContext& proxy, const RequestContext& request);

}  // namespace portico
