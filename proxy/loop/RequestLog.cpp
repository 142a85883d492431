#include "loop/RequestLog.h"

#include "balance/TargetState.h"
#include "forward/RequestId.h"
#include "loop/Exchange.h"
#include "loop/ProxyLoop.h"
#include "observe/AccessLog.h"
#include "observe/ProxyMetrics.h"

namespace portico {

void logRequest(ProxyLoop& loop, const http::HttpHead* head, std::string_view protocol,
                const Exchange* exchange, std::string_view peer, int status, std::uint64_t bytes,
                std::chrono::steady_clock::time_point started) {
  const double ms = AccessLog::millisecondsSince(started);
  if (exchange && !exchange->route()) exchange = nullptr;
  const Route* route = exchange ? exchange->route() : nullptr;
  if (ProxyMetrics* m = loop.context().metrics) {
    const TargetState* target = exchange ? exchange->policy().target() : nullptr;
    m->requestDone(m->threadShard(), route ? route->metrics.get() : nullptr,
                   target ? target->metrics.get() : nullptr, status, ms / 1000);
  }
  const AccessLog& log = *loop.context().accessLog;
  if (!log.enabled()) return;
  AccessRecord record;
  record.client = peer;
  record.method = head ? head->method() : std::string_view("-");
  record.target = head ? head->target() : std::string_view("-");
  record.protocol = head ? protocol : std::string_view("-");
  if (head) {
    head->find("Referer", record.referer);
    head->find("User-Agent", record.userAgent);
  }
  char generated[RequestIdGenerator::kLength];
  if (exchange) {
    record.requestId = exchange->policy().requestId();
  } else {
    std::string_view id;
    record.requestId =
        head && head->find(RequestIdGenerator::kHeader, id) && RequestIdGenerator::acceptable(id)
            ? id
            : RequestIdGenerator::forThisThread().next(generated);
  }
  if (exchange && exchange->responseHeadAt() != std::chrono::steady_clock::time_point{})
    record.upstreamMs =
        std::chrono::duration<double, std::milli>(exchange->responseHeadAt() - started).count();
  record.route = route ? std::string_view(route->prefix) : std::string_view("-");
  record.upstream = exchange ? exchange->upstream() : std::string_view("-");
  record.status = status;
  record.bytes = bytes;
  record.durationMs = ms;
  log.write(record);
}

}  // namespace portico
