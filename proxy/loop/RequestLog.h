#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "http/HttpHead.h"

namespace portico {

class Exchange;
class ProxyLoop;
class RequestContext;
struct ProxyContext;

/// The end of one request as the metrics and the access log see it, for HTTP/1.1 connections
/// and HTTP/2 streams alike: one count in the metrics, one access-log line.
void logRequest(const ProxyContext& proxy, const RequestContext& request);

/// The former form, for a client side that keeps its own record (Http2Stream, until it reads
/// the exchange's RequestContext): `head` null when it never parsed; `exchange` null for an
/// answer of the proxy's own before routing.
void logRequest(ProxyLoop& loop, const http::HttpHead* head, std::string_view protocol,
                const Exchange* exchange, std::string_view peer, int status, std::uint64_t bytes,
                std::chrono::steady_clock::time_point started);

}  // namespace portico
