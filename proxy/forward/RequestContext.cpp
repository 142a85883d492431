#include "forward/RequestContext.h"

#include "balance/TargetState.h"
#include "routing/RouteTable.h"

namespace portico {

void RequestContext::begin(Clock::time_point started, std::string_view peer,
                           std::string_view protocol) {
  *this = RequestContext();
  started_ = started;
  peer_ = peer;
  protocol_ = protocol;
}

AccessRecord RequestContext::record(Clock::time_point now,
                                    char (&generated)[RequestIdGenerator::kLength],
                                    RequestIdGenerator& ids) const {
  AccessRecord r;
  r.client = peer_;
  r.method = head_ ? head_->method() : std::string_view("-");
  r.target = head_ ? head_->target() : std::string_view("-");
  r.protocol = head_ ? protocol_ : std::string_view("-");
  if (head_) {
    head_->find("Referer", r.referer);
    head_->find("User-Agent", r.userAgent);
  }
  if (!requestId_.empty()) {
    r.requestId = requestId_;
  } else {
    std::string_view id;
    r.requestId =
        head_ && head_->find(RequestIdGenerator::kHeader, id) && RequestIdGenerator::acceptable(id)
            ? id
            : ids.next(generated);
  }
  r.traceId = traceId_;
  if (responseHeadAt_ != Clock::time_point{})
    r.upstreamMs = std::chrono::duration<double, std::milli>(responseHeadAt_ - started_).count();
  r.route = route_ ? std::string_view(route_->prefix) : std::string_view("-");
  if (route_) r.host = route_->host;
  r.upstream = target_ ? std::string_view(target_->url.canonical) : std::string_view("-");
  r.attempts = attempts_;
  if (attempts_ > 1)
    for (std::size_t i = 0; i < attempts_ && i < AccessRecord::kMaxTried; ++i)
      r.tried[i] = tried_[i]->url.canonical;
  r.status = status_;
  r.bytes = bytesOut_;
  r.durationMs = std::chrono::duration<double, std::milli>(now - started_).count();
  return r;
}

}  // namespace portico
