#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "http/HttpHead.h"

namespace portico {

class Exchange;
class ProxyLoop;

/// The end of one request as the metrics and the access log see it, for HTTP/1.1 connections
/// and HTTP/2 streams alike. `head`: the request head (null when it never parsed); `exchange`:
/// the request's exchange (null for an answer of the proxy's own before routing).
void logRequest(ProxyLoop& loop, const http::HttpHead* head, std::string_view protocol,
                const Exchange* exchange, std::string_view peer, int status, std::uint64_t bytes,
                std::chrono::steady_clock::time_point started);

}  // namespace portico
