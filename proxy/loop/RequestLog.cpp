#include "loop/RequestLog.h"

#include "balance/TargetState.h"
#include "forward/ProxyContext.h"
#include "forward/RequestContext.h"
#include "loop/Exchange.h"
#include "loop/ProxyLoop.h"
#include "observe/AccessLog.h"
#include "observe/ProxyMetrics.h"

namespace portico {

void logRequest(const ProxyContext& proxy, const RequestContext& request) {
  const auto now = RequestContext::Clock::now();
  if (ProxyMetrics* m = proxy.metrics) {
    const Route* route = request.route();
    const TargetState* target = request.target();
    const double seconds = std::chrono::duration<double>(now - request.started()).count();
    m->requestDone(m->threadShard(), route ? route->metrics.get() : nullptr,
                   target ? target->metrics.get() : nullptr, request.status(), seconds);
  }
  const AccessLog& log = *proxy.accessLog;
  if (!log.enabled()) return;
  char generated[RequestIdGenerator::kLength];
  log.write(request.record(now, generated, RequestIdGenerator::forThisThread()));
}

void logRequest(ProxyLoop& loop, const http::HttpHead* head, std::string_view protocol,
                const Exchange* exchange, std::string_view peer, int status, std::uint64_t bytes,
                std::chrono::steady_clock::time_point started) {
  RequestContext request;
  request.begin(started, peer, protocol);
  if (exchange && exchange->route()) {
    const RequestContext& forwarded = exchange->context();
    request.routed(*exchange->route());
    request.requestId(forwarded.requestId());
    request.targetChosen(forwarded.target());
    request.responseHeadArrived(forwarded.responseHeadAt());
  }
  if (head) request.headParsed(*head);
  request.outcome(status, bytes);
  logRequest(loop.context(), request);
}

}  // namespace portico
