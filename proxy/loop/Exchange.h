#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forward/ForwardingPolicy.h"
#include "forward/RequestContext.h"
#include "forward/ResponseHead.h"
#include "http/HttpParser.h"
#include "loop/Http2Upstream.h"
#include "loop/UpstreamChannel.h"

namespace portico {

class ProxyLoop;

/// What an exchange needs from the client side it answers: an HTTP/1.1 connection today, an
/// HTTP/2 stream as well. Exactly one of answer(), responseEnd(), abortResponse() and
/// switchProtocols() ends each exchange; the client releases the exchange after that, never
/// inside the call.
class ExchangeClient {
 public:
  virtual ~ExchangeClient() = default;
  /// The target is ready for the request body: from now on the client delivers it through
  /// Exchange::requestBody() (after a 100 Continue if the client waits for one).
  virtual void requestBodyWanted() = 0;
  /// The target's response head, ready for the client's codec to write.
  virtual void respond(const ResponseHead& head) = 0;
  /// Response body bytes (framing removed); valid until flushResponse() returns.
  virtual void responseBody(std::string_view bytes) = 0;
  /// Writes what was queued. False when the client cannot take it all now: the exchange stops
  /// reading the target until Exchange::clientDrained().
  virtual bool flushResponse() = 0;
  /// The target's trailer fields (HTTP/2 targets), before responseEnd(); a client that cannot
  /// carry them (HTTP/1.1 here) lets them go.
  virtual void responseTrailers(const http::HttpHead& /*trailers*/) {}
  /// The response is complete.
  virtual void responseEnd() = 0;
  /// The request's trailer fields once its body ended (an HTTP/2 client's: name, value, name,
  /// value...), which an HTTP/2 target gets after the last DATA frame; null when none came.
  virtual const std::vector<std::string>* requestTrailers() const { return nullptr; }
  /// The proxy's own answer (nothing of a response went out yet).
  virtual void answer(const ProxyAnswer& answer) = 0;
  /// The response broke off after its head went out: the client must see an error, not an end.
  virtual void abortResponse() = 0;
  /// 101 to a WebSocket request: the target's connection (with any bytes it sent after its
  /// head still in its input) is handed over; bytes flow both ways from now on.
  virtual void switchProtocols(const ResponseHead& head,
                               std::unique_ptr<UpstreamChannel> upstreamChannel) = 0;
};

/// One request's trip through an event loop: asks the policy for a target, takes a pooled
/// connection or opens one, writes the request, reads the response and hands it to the client
/// side with back-pressure both ways, and turns every failure into the policy's answer. No I/O
/// of the client's own happens here, so an HTTP/2 stream can drive it like an HTTP/1.1
/// connection.
class Exchange final : public UpstreamChannel::Owner,
                       public http::BodySink,
                       public Http2Upstream::Stream,
                       public net::TimerHandler {
 public:
  explicit Exchange(ProxyLoop& loop);
  ~Exchange() override;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  /// Forwards `request` (which the client keeps in place until the exchange ends) on `route`
  /// of `table`. `routedTarget`: the target with dot segments resolved (empty: as received).
  void start(ExchangeClient& client, std::shared_ptr<const RouteTable> table, const Route& route,
             const http::HttpHead& request, std::string routedTarget, std::string_view peer,
             bool peerTrusted, bool tls);

  // From the client side.
  void requestBody(std::string_view bytes);
  void requestBodyEnd();
  /// Writes what requestBody() queued. False when the target is backed up or gone: the client
  /// stops delivering until ExchangeClient::requestBodyWanted() comes again.
  bool flushRequest();
  /// The client closed or reset its connection.
  void clientGone();
  /// The client took what was waiting: read the target again.
  void clientDrained();

  /// Started and not finished: the target or the client still owes something.
  bool inFlight() const { return route_ && phase_ != Phase::Done; }
  bool finished() const { return phase_ == Phase::Done; }
  /// Forgets the finished request (the loop keeps the object for the next one).
  void clear();
  const ForwardingPolicy& policy() const { return *policy_; }
  /// The request's record, which the client side begins (HTTP/1.1: at its first byte, before
  /// start()) and the access log and metrics read at its end.
  RequestContext& context() { return context_; }
  const RequestContext& context() const { return context_; }
  /// The status sent (499 when the client left first) and response body bytes.
  int status() const { return context_.status(); }
  std::uint64_t bytesSent() const { return context_.bytesOut(); }
  std::string_view upstream() const;
  const Route* route() const { return route_; }

  // UpstreamChannel::Owner
  void upstreamConnected() override;
  void upstreamReadable() override;
  void upstreamDrained() override;
  void upstreamFailed(UpstreamChannel::Failure failure, const std::string& error) override;

  // BodySink (the response body)
  void data(const char* bytes, std::size_t size) override;

  // Http2Upstream::Stream (a route whose upstreamProtocol speaks HTTP/2 to the target)
  void h2Ready(Http2Upstream& connection) override;
  void h2Failed(UpstreamChannel::Failure failure, const std::string& error,
                bool unprocessed) override;
  void h2Head(const http::HttpHead& head, bool endStream) override;
  void h2Data(std::string_view bytes) override;
  void h2Trailers(const http::HttpHead& trailers) override;
  void h2End() override;
  long h2Body(std::uint8_t* buffer, std::size_t length, bool& end) override;
  void h2RequestTrailers(std::vector<nghttp2_nv>& fields) override;

  // TimerHandler: the request's grpc-timeout, or an HTTP/2 stream's read timeout.
  void onTimeout(int tag) override;

 private:
  enum TimerTag { kDeadline, kStreamRead };
  enum class Phase { Idle, Connecting, Forwarding, Done };

  void attempt();
  /// The current target is spoken to in HTTP/2 (the route's upstreamProtocol).
  bool http2Target() const;
  /// "auto" to an https target: its ALPN choice decides between HTTP/2 and HTTP/1.1.
  bool alpnDecides() const;
  /// A new connection to the current target (offering h2 too when ALPN decides).
  void connectNew();
  /// The request head as HTTP/2 fields, submitted on `h2_`.
  bool submitHttp2();
  /// A gRPC request's grpc-timeout starts its deadline (the read timeout still bounds the wait
  /// for the answer's head).
  void armDeadline(const http::HttpHead& request);
  /// The deadline passed: DEADLINE_EXCEEDED to the client, the target's stream cancelled.
  void deadlineExceeded();
  /// An HTTP/2 stream's read timeout: for the head once the request is sent, then between
  /// DATA frames unless the answer is a gRPC stream (its messages may be minutes apart).
  void armStreamRead();
  /// Another target under the route's retries policy, when it allows one for `reason`.
  bool retried(RetryReason reason);
  /// The request body was received whole and kept for a replay.
  bool bodyHeld() const { return bodyComplete_ && holding_; }
  void sendHead();
  void requestSent();
  void onResponseHead();
  /// A response the proxy cannot read: 502, or cut off when its head already went out.
  void responseMalformed();
  void onResponseComplete();
  void fail(const ProxyAnswer& answer);
  void dropChannel(bool abort);
  void finish();

  ProxyLoop& loop_;
  ExchangeClient* client_{nullptr};
  std::shared_ptr<const RouteTable> table_;  // keeps the route and its targets alive
  const Route* route_{nullptr};
  std::string routed_;
  std::optional<ForwardingPolicy> policy_;
  std::unique_ptr<UpstreamChannel> channel_;
  http::HttpParser response_;
  ForwardingPolicy::Response plan_;
  Phase phase_{Phase::Idle};
  bool bodyComplete_{false};     // the client's body has all been queued for the target
  bool responseStarted_{false};  // the response head went to the client
  bool responseBytes_{false};    // the target sent something
  bool retried_{false};
  bool oversized_{false};                   // the body outgrew the route's maxBodySize
  std::uint64_t bodyBytes_{0};              // request body bytes taken so far
  net::TimerList* connectTimers_{nullptr};  // the loop's lists of the route's timeouts
  net::TimerList* readTimers_{nullptr};
  // The request body as received, kept while it fits proxy.retry_buffer on a route with a
  // retries policy, so another target can be sent it whole.
  bool holding_{false};
  std::size_t holdLimit_{0};
  std::string heldBody_;
  RequestContext context_;
  // HTTP/2 to the target: the connection and stream, the request body not yet framed, the
  // response bytes the client has not taken (the target's window stays closed for them).
  Http2Upstream* h2_{nullptr};
  std::int32_t h2Id_{0};
  std::string h2Body_;
  std::size_t h2BodyPos_{0};
  bool h2BodyHeld_{false};  // the client waits for requestBodyWanted()
  std::size_t h2Unconsumed_{0};
  http::HttpHead h2Response_;
  bool h2GrpcAnswer_{false};  // the response is
                              // application/grpc: no read timeout between DATA
  net::Timer h2ReadTimer_{*this, kStreamRead};
  net::Timer deadline_{*this, kDeadline};
};

}  // namespace portico
