#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "forward/RequestId.h"
#include "http/HttpHead.h"
#include "observe/AccessLog.h"

namespace portico {

struct Route;
struct TargetState;

/// What one request did on its way through the proxy, recorded as it happens and read once at
/// its end by the access log and the metrics: when it began, the request head, the route and
/// the target being tried, how many targets were tried, who answered (the proxy itself or the
/// target) with which status, body bytes both ways and the request id. It holds views only (of
/// the request head, the route snapshot, the policy's id), all kept alive by the request's
/// owner until the record is taken; begin() makes the object ready for the next request without
/// allocating, so an event loop keeps one inside each pooled Exchange.
class RequestContext {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Answerer : std::uint8_t { Nobody, Proxy, Target };

  /// A new request whose first byte came at `started`: everything of the previous one is
  /// forgotten. `peer`: the client's address as text; `protocol` as logged ("HTTP/1.1").
  void begin(Clock::time_point started, std::string_view peer, std::string_view protocol);

  // --- The request.
  void headParsed(const http::HttpHead& head) { head_ = &head; }
  void protocol(std::string_view protocol) { protocol_ = protocol; }
  void routed(const Route& route) { route_ = &route; }
  void requestId(std::string_view id) { requestId_ = id; }
  /// The W3C trace id the request went upstream with (empty when never forwarded).
  void traceId(std::string_view id) { traceId_ = id; }
  /// The policy's choice for the next attempt: a target to try, or null when none is left
  /// (the log then names no target, as the policy no longer holds one).
  void targetChosen(const TargetState* target) {
    target_ = target;
    if (!target) return;
    if (attempts_ < AccessRecord::kMaxTried) tried_[attempts_] = target;
    ++attempts_;
  }
  void bodyReceived(std::size_t bytes) { bytesIn_ += bytes; }

  // --- The answer.
  /// The target's response head arrived (the log's upstream time), whether or not the proxy
  /// passes it on.
  void responseHeadArrived(Clock::time_point at) { responseHeadAt_ = at; }
  /// The target's response (head and status) goes to the client.
  void targetAnswered(int status) {
    answeredBy_ = Answerer::Target;
    status_ = status;
  }
  /// The proxy answers itself: `status` with a body of `bodyBytes` (nothing of the target's).
  void proxyAnswered(int status, std::uint64_t bodyBytes) {
    answeredBy_ = Answerer::Proxy;
    status_ = status;
    bytesOut_ = bodyBytes;
  }
  /// The client went away before the request ended: 499, nginx's "client closed request".
  void clientGone() { status_ = kClientClosed; }
  void bodySent(std::size_t bytes) { bytesOut_ += bytes; }
  /// Status and body bytes as a client side that counts them itself reports them.
  void outcome(int status, std::uint64_t bytesOut) {
    status_ = status;
    bytesOut_ = bytesOut;
  }

  static constexpr int kClientClosed = 499;

  Clock::time_point started() const { return started_; }
  const http::HttpHead* head() const { return head_; }
  std::string_view peer() const { return peer_; }
  const Route* route() const { return route_; }
  const TargetState* target() const { return target_; }
  std::size_t attempts() const { return attempts_; }
  Answerer answeredBy() const { return answeredBy_; }
  /// The status sent (0: none yet); 499 when the client left first.
  int status() const { return status_; }
  std::uint64_t bytesIn() const { return bytesIn_; }
  std::uint64_t bytesOut() const { return bytesOut_; }
  /// The id sent upstream, empty when the request was never forwarded.
  std::string_view requestId() const { return requestId_; }
  Clock::time_point responseHeadAt() const { return responseHeadAt_; }

  /// The access-log line's fields at `now`. A request never forwarded logs the client's id when
  /// acceptable, else one generated into `generated` (valid as long as the record).
  AccessRecord record(Clock::time_point now, char (&generated)[RequestIdGenerator::kLength],
                      RequestIdGenerator& ids) const;

 private:
  Clock::time_point started_{};
  const http::HttpHead* head_{nullptr};
  std::string_view peer_;
  std::string_view protocol_;
  const Route* route_{nullptr};
  const TargetState* target_{nullptr};
  std::size_t attempts_{0};
  const TargetState* tried_[AccessRecord::kMaxTried]{};  // the first attempts_ are set
  Answerer answeredBy_{Answerer::Nobody};
  int status_{0};
  std::uint64_t bytesIn_{0};
  std::uint64_t bytesOut_{0};
  std::string_view requestId_;
  std::string_view traceId_;
  Clock::time_point responseHeadAt_{};
};

}  // namespace portico
