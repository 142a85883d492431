#include "loop/RequestLog.h"

#include <chrono>

#include "balance/TargetState.h"
#include "forward/ProxyContext.h"
#include "forward/RequestContext.h"
#include "observe/AccessLog.h"
#include "observe/ProxyMetrics.h"
#include "routing/RouteTable.h"

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

}  // namespace portico
