#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "balance/PickState.h"
#include "forward/HeaderFilter.h"
#include "forward/HeaderLines.h"
#include "forward/ProxyContext.h"
#include "forward/RequestId.h"
#include "forward/TraceContext.h"
#include "http/HttpHead.h"
#include "http/MessageFraming.h"
#include "model/Resilience.h"
#include "routing/RouteTable.h"

namespace portico {

/// An answer the proxy gives itself: a status and the message of its JSON error body.
struct ProxyAnswer {
  int status{0};
  std::string message;
  /// "Name: value\r\n" lines the answer carries besides its own (Retry-After, RateLimit-*).
  std::string headers{};
};

/// The decisions of one request's trip through the proxy, free of I/O: which target to try
/// next, what goes upstream, whether a failed attempt may be repeated, what the client gets back
/// and how each failure is answered. The event loops and the module's blocking handler both ask
/// it and carry out its answers, so every forwarding rule exists once.
class ForwardingPolicy {
 public:
  /// `request` (and the route's snapshot) must outlive the policy. `routedTarget` is the request
  /// target with dot segments resolved (empty: the request's own); `peer` the client's address;
  /// `tls` whether the client connection is encrypted (X-Forwarded-Proto).
  ForwardingPolicy(const ProxyContext& context, const Route& route, const http::HttpHead& request,
                   std::string_view routedTarget, std::string_view peer, bool peerTrusted,
                   bool tls);
  ForwardingPolicy(const ForwardingPolicy&) = delete;
  ForwardingPolicy& operator=(const ForwardingPolicy&) = delete;
  /// Leaves the route's in-flight count (see admit()).
  ~ForwardingPolicy();

  const Route& route() const { return route_; }
  const http::HttpHead& request() const { return request_; }

  // --- The client's request.
  /// How the request body is delimited; when refused(), answer refusal/reason and close.
  const http::MessageFraming& framing() const { return framing_; }
  bool hasBody() const { return framing_.framing != http::BodyFraming::Empty; }
  bool websocket() const { return websocket_; }
  bool expectsContinue() const { return expectContinue_; }
  /// The client sent "TE: trailers" (gRPC always does): an HTTP/2 target is told so, and its
  /// trailers reach an HTTP/1.1 client at the end of a chunked body.
  bool clientWantsTrailers() const;

  // --- Choosing targets.
  /// The next target to try: the balancer's choice among those in rotation not tried yet,
  /// cooling-down ones only when nothing else is left; null when none is. Counts the request in
  /// the target's in-flight total until release() or the next call. `picks` is the calling
  /// loop's (or thread's) own pick state, never shared with another thread; `nowMs` is the
  /// steady clock in milliseconds (cooldowns and slow-start ramps).
  TargetState* nextTarget(PickStates& picks, std::int64_t nowMs);
  /// The current target's connection failed before anything was sent: it is passed over for
  /// the cooldown (passive check) and the reason kept for the final answer.
  void connectFailed(const std::string& error, std::int64_t nowMs);
  /// The answer when no target could be used: 503 (none in rotation) or 502 (none accepted).
  ProxyAnswer exhausted() const;
  /// The 503 message of a route with no target in rotation: "route P has no targets", "no
  /// healthy target for route P" when every target is down, else "no target in rotation for
  /// route P (1 unhealthy, 2 draining, 1 disabled, 1 with weight 0)".
  static std::string notInRotation(const Route& route);
  /// Ends the request's count in its target's in-flight total (least_conn).
  void release();
  TargetState* target() const { return current_; }
  /// The current target as the route's snapshot shares it (a pooled connection keeps it alive).
  const std::shared_ptr<TargetState>& targetHandle() const {
    return route_.candidates()[tried_[triedCount_ - 1]].target;
  }
  std::size_t attempts() const { return triedCount_; }

  /// Whether a request that failed on a reused keep-alive connection (which the target may have
  /// closed just then) may go again on a fresh one: only without a body and for an idempotent
  /// method, as nginx does.
  bool retryable() const;

  /// A request body of `bytes` is over the route's maxBodySize (never without one).
  bool bodyTooLarge(std::uint64_t bytes) const;
  /// The 413 for a body over the route's maxBodySize.
  ProxyAnswer tooLarge() const;
  /// The route's own timeouts where it sets them, else the proxy's.
  std::chrono::milliseconds connectTimeout() const {
    return RequestRules::orDefault(route_.rules().connectTimeout, ctx_.timeouts.connect);
  }
  /// With a retries policy's perTryTimeout (Envoy's per_try_timeout), each attempt's answer is
  /// due within it, never beyond the read timeout; a timed-out attempt may then go to another
  /// target (reason `timeout`).
  std::chrono::milliseconds readTimeout() const {
    const auto read = RequestRules::orDefault(route_.rules().readTimeout, ctx_.timeouts.read);
    const auto& retries = route_.policies().resilience.retries;
    if (retries.enabled() && retries.perTryTimeout.count() > 0)
      return std::min(read, retries.perTryTimeout);
    return read;
  }
  // --- Resilience: the route's rateLimit, maxRequests, retries and outlierDetection policies.
  /// Lets the request into its route: the 429 of its rate limit, the 503 of its maxRequests,
  /// or status 0 (admitted). With maxRequests or retries the request counts in the route's
  /// in-flight total until the policy ends. `nowUs`: the steady clock in microseconds.
  ProxyAnswer admit(std::int64_t nowUs);
  /// "Name: value\r\n" lines every answer of the request carries (RateLimit-* of a limited
  /// route), empty for most routes.
  const std::string& answerHeaders() const { return answerHeaders_; }
  /// The attempt on the current target ended with the target's `status` (0: it failed to
  /// answer: connect failure, reset, timeout): outlier detection counts it.
  void attemptEnded(int status, std::int64_t nowMs);
  /// Whether the attempt that failed for `reason` may go again on another target under the
  /// route's retries policy: attempts left, an idempotent method (or nonIdempotent), the
  /// retry budget. `bodyHeld`: the request body, if any, was received whole and kept. Counts
  /// the retry (metrics, budget) when it says yes.
  bool retryOn(RetryReason reason, bool bodyHeld);
  /// The request no longer counts in its route's in-flight totals (its end; also on
  /// destruction).
  void leaveRoute();
  /// A target not tried yet is left in rotation (a retry has somewhere to go).
  bool untriedLeft() const { return triedCount_ < route_.candidates().size(); }
  /// How many bytes of request body the caller keeps for a replay (0: none is kept).
  std::size_t replayLimit() const;
  /// The retries policy's attempts have all been spent, or it has none.
  bool retriesLeft() const;

  // --- The upstream request.
  /// The request line and headers for the current target: hop-by-hop headers dropped,
  /// X-Forwarded-*, X-Origin-Host added, the body framed by the proxy itself.
  void writeUpstreamHead(std::string& out) const;

  // --- The response.
  struct Response {
    http::BodyFraming upstream{http::BodyFraming::Empty};  // how the target's body ends
    std::uint64_t length{0};
    http::BodyFraming client{http::BodyFraming::Empty};  // how the client gets it
    bool upgrade{false};  // 101 to a WebSocket request: bytes are tunnelled from here on
    int refusal{0};       // a response the proxy will not pass on (502), with `reason`
    std::string reason;
    /// The client connection must close after this response (a body delimited by the close
    /// for an HTTP/1.0 client).
    bool closeClient{false};
  };
  /// Judges the target's response head. `headRequest`: the request was HEAD (no body follows).
  Response planResponse(const http::HttpHead& upstream) const;
  /// The status line and headers for an HTTP/1.1 client. `keepAlive`: whether the client
  /// connection stays open afterwards.
  void writeResponseHead(const http::HttpHead& upstream, const Response& plan, bool keepAlive,
                         std::string& out) const;
  /// Calls f(name, value) for every header of `upstream` the client gets, framing and
  /// hop-by-hop headers excluded (the module's handler sets them on POCO's response).
  /// The route's responseHeaders edits are applied: removed and set names dropped, set and add
  /// lines last.
  template <class F>
  void forEachResponseHeader(const http::HttpHead& upstream, F&& f) const {
    const HeaderRules& edits = route_.rules().response;
    if (edits.empty()) {
      HeaderFilter(upstream, &responseComputed()).forEachForwarded(f);
    } else {
      HeaderFilter(upstream, &responseComputed())
          .forEachForwarded([&](std::string_view name, std::string_view value) {
            if (!edits.drops(name)) f(name, value);
          });
      for (const auto& [name, value] : edits.added)
        f(std::string_view(name), std::string_view(value));
    }
    forEachHeaderLine(answerHeaders_, f);
  }

  /// Whether the proxy adds its own Date / Server to a response whose target sent none: not
  /// when the route's responseHeaders remove or set them.
  bool addsDate(const http::HttpHead& upstream) const {
    return !upstream.has(http::KnownHeader::Date) && !route_.rules().response.drops("date");
  }
  bool addsServer(const http::HttpHead& upstream) const {
    return !upstream.has(http::KnownHeader::Server) && !route_.rules().response.drops("server");
  }

  /// The request is a HEAD (its response has no body whatever the head says).
  bool headRequest() const { return head_; }
  /// The client's address as the balancer sees it (ip_hash): the right-most untrusted hop of
  /// X-Forwarded-For from a trusted peer, else the peer.
  const std::string& clientKey() const;
  /// The X-Request-Id sent upstream and logged: the client's when acceptable, else generated
  /// by the calling thread's generator (a loop's, or a blocking handler thread's).
  std::string_view requestId() const { return requestId_; }
  /// The W3C trace context the target gets (the client's, or one started here).
  const TraceContext& trace() const { return trace_; }
  /// A request that failed on a stale pooled connection goes again on a fresh one (counted).
  void retriedOnFreshConnection() const;
  /// The target did not answer within proxy.read_timeout (counted).
  void upstreamTimedOut() const;

  static const std::vector<http::KnownHeader>& responseComputed();

 private:
  /// X-Forwarded-For, with its line end.
  void appendForwardedFor(std::string& out) const;
  /// An ejected target whose time is up comes back (logged once, by whoever sees it first).
  void returnFromEjection(std::int64_t nowMs);
  /// The 429 of a route over its rate limit, or status 0; sets answerHeaders_.
  ProxyAnswer rateLimited(std::int64_t nowUs);
  std::string atLimit(int limit) const;

  const ProxyContext& ctx_;
  const Route& route_;
  const http::HttpHead& request_;
  std::string_view target_;  // as routed
  std::string_view peer_;
  bool peerTrusted_;
  bool tls_;
  http::MessageFraming framing_;
  bool websocket_{false};
  bool expectContinue_{false};
  bool head_{false};
  bool idempotent_{true};
  bool replaySafe_{false};   // RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE
  bool inRoute_{false};      // counted in route_.state->inFlight
  bool onRetry_{false};      // counted in route_.state->retriesInFlight
  bool policyRetry_{false};  // the next target is a retry of the route's policy
  bool overflow_{false};     // the last nextTarget() found every candidate at its limit
  int retries_{0};           // retries made under the route's policy
  std::string answerHeaders_;
  static constexpr std::size_t kMaxTried = 16;
  std::size_t tried_[kMaxTried];
  std::size_t triedCount_{0};
  TargetState* current_{nullptr};
  bool counted_{false};
  std::string lastError_;
  mutable std::string clientKey_;
  mutable bool clientKeyKnown_{false};
  char generatedId_[RequestIdGenerator::kLength];
  std::string_view requestId_;
  TraceContext trace_;
};

}  // namespace portico
