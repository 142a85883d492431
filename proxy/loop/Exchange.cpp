#include "loop/Exchange.h"

#include <nghttp2/nghttp2.h>

#include <cstdio>
#include <cstring>

#include "balance/TargetState.h"
#include "base/Duration.h"
#include "base/Log.h"
#include "forward/GrpcStatus.h"
#include "forward/GrpcTimeout.h"
#include "http/NumberText.h"
#include "loop/ProxyLoop.h"

namespace portico {
namespace {

using http::BodyFraming;
using Status = http::HttpParser::Status;

void appendHex(net::Outbox& out, std::size_t n) {
  char text[24];
  out.append(http::chunkSizeLine(n, text));
}

// Request body bytes queued for an HTTP/2 target before the client is held back.
constexpr std::size_t kHttp2BodyHighWater = 64 * 1024;

/// Connection-specific fields, which RFC 9113 8.2.2 forbids in HTTP/2 (TE but "trailers").
bool connectionSpecific(http::KnownHeader k) {
  using K = http::KnownHeader;
  return k == K::Host || k == K::Connection || k == K::KeepAlive || k == K::TransferEncoding ||
         k == K::Upgrade || k == K::Te || k == K::ProxyAny || k == K::Expect;
}

nghttp2_nv field(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::int64_t steadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Exchange::Exchange(ProxyLoop& loop) : loop_(loop), response_(http::HttpParser::Kind::Response) {}

Exchange::~Exchange() {
  if (policy_) policy_->release();
  dropChannel(true);
}

void Exchange::clear() {
  if (policy_) policy_->release();
  dropChannel(true);
  policy_.reset();
  table_.reset();
  route_ = nullptr;
  client_ = nullptr;
  deadline_.cancel();
  routed_.clear();
  heldBody_.clear();
  holding_ = false;
  phase_ = Phase::Idle;
  oversized_ = false;
  context_ = RequestContext();
}

std::string_view Exchange::upstream() const {
  if (!policy_ || !policy_->target()) return "-";
  return policy_->target()->url.canonical;
}

void Exchange::start(ExchangeClient& client, std::shared_ptr<const RouteTable> table,
                     const Route& route, const http::HttpHead& request, std::string routedTarget,
                     std::string_view peer, bool peerTrusted, bool tls) {
  client_ = &client;
  table_ = std::move(table);
  route_ = &route;
  routed_ = std::move(routedTarget);
  policy_.emplace(loop_.context(), route, request, routed_, peer, peerTrusted, tls);
  phase_ = Phase::Idle;
  bodyComplete_ = !policy_->hasBody();
  responseStarted_ = responseBytes_ = retried_ = false;
  context_.routed(route);
  context_.requestId(policy_->requestId());
  context_.traceId(policy_->trace().traceId());
  connectTimers_ = &loop_.timersFor(policy_->connectTimeout());
  readTimers_ = &loop_.timersFor(policy_->readTimeout());
  bodyBytes_ = 0;
  h2GrpcAnswer_ = false;
  // gRPC needs HTTP/2 to the target: an HTTP/1.1 route does not even look for grpc-timeout.
  if (route.policies().upstream.protocol != UpstreamPolicy::Protocol::Http11) armDeadline(request);
  if (policy_->framing().refused()) {
    fail({policy_->framing().refusal, policy_->framing().reason});
    return;
  }
  // A body announced over the route's limit is refused before any target is chosen.
  if (policy_->framing().framing == BodyFraming::Length &&
      policy_->bodyTooLarge(policy_->framing().length)) {
    fail(policy_->tooLarge());
    return;
  }
  holdLimit_ = policy_->hasBody() ? policy_->replayLimit() : 0;
  holding_ = holdLimit_ > 0;
  heldBody_.clear();
  // Most routes have none of rateLimit, maxRequests and retries: one branch.
  if (route.state && (route.policies().resilience.rateLimit.enabled() ||
                      route.policies().resilience.maxRequests > 0 ||
                      route.policies().resilience.retries.enabled())) {
    ProxyAnswer refused = policy_->admit(steadyMicros());
    if (refused.status != 0) {
      fail(refused);
      return;
    }
  }
  attempt();
}

bool Exchange::retried(RetryReason reason) {
  if (responseStarted_ || !policy_->untriedLeft() || !policy_->retryOn(reason, bodyHeld()))
    return false;
  dropChannel(true);
  responseBytes_ = false;
  attempt();
  return true;
}

void Exchange::attempt() {
  responseBytes_ = false;
  TargetState* target = policy_->nextTarget(loop_.picks(), loop_.events().now());
  context_.targetChosen(target);
  if (!target) {
    fail(policy_->exhausted());
    return;
  }
  if (http2Target()) {
    phase_ = Phase::Connecting;
    Http2Upstream::attach(loop_, policy_->targetHandle(), *this,
                          *connectTimers_);  // may report at once
    return;
  }
  // "auto" to an https target: a connection on which it chose h2 before takes the stream.
  if (alpnDecides() && Http2Upstream::attachOpen(loop_, *target, *this)) return;
  channel_ = UpstreamChannel::takeIdle(loop_, *target);
  if (channel_) {
    channel_->adopt(*this);
    sendHead();
    return;
  }
  connectNew();
}

void Exchange::connectNew() {
  phase_ = Phase::Connecting;
  channel_ = std::make_unique<UpstreamChannel>(loop_, policy_->targetHandle());
  if (alpnDecides()) channel_->offer(net::ClientAlpn::H2OrHttp11);
  channel_->connect(*this, *connectTimers_);  // may report at once
}

void Exchange::upstreamConnected() {
  if (channel_->tls() && channel_->protocol() == "h2") {
    // Only an "auto" route offers h2 on this path: the target chose it, so the connection
    // becomes the loop's HTTP/2 connection to it, this request its first stream.
    Http2Upstream::adopt(loop_, std::move(channel_), *this);
    return;
  }
  sendHead();
}

void Exchange::sendHead() {
  phase_ = Phase::Forwarding;
  response_.reset();
  if (policy_->headRequest()) response_.expectNoBody();
  std::string& head = loop_.scratch();
  head.clear();
  policy_->writeUpstreamHead(head);
  channel_->outbox().append(head);
  if (!bodyComplete_) {
    // The body follows as the client delivers it (flushRequest() writes head and body).
    client_->requestBodyWanted();
    return;
  }
  if (policy_->hasBody() && bodyHeld()) {
    // A retry: the body went to an earlier target as it came; this one gets the kept copy.
    net::Outbox& out = channel_->outbox();
    const bool chunked = policy_->framing().framing == BodyFraming::Chunked;
    if (chunked && !heldBody_.empty()) appendHex(out, heldBody_.size());
    out.reference(heldBody_);
    if (chunked) out.append(heldBody_.empty() ? "0\r\n\r\n" : "\r\n0\r\n\r\n");
  }
  flushRequest();
}

void Exchange::requestBody(std::string_view bytes) {
  context_.bodyReceived(bytes.size());
  if (bytes.empty() || oversized_) return;
  if (h2_ || (phase_ == Phase::Forwarding && channel_)) {
    bodyBytes_ += bytes.size();
    if (policy_->bodyTooLarge(bodyBytes_)) {
      // A body without a length (chunked, or HTTP/2 DATA) that outgrew the route's limit: none
      // of it past the limit is sent, and flushRequest() answers 413 once the client side is
      // out of its parser.
      oversized_ = true;
      return;
    }
  }
  if (holding_) {
    if (heldBody_.size() + bytes.size() <= holdLimit_) {
      heldBody_.append(bytes);
    } else {
      // Too large to replay: it is forwarded as it comes and never retried.
      holding_ = false;
      std::string().swap(heldBody_);
    }
  }
  if (h2_) {
    h2Body_.append(bytes);
    return;
  }
  if (phase_ != Phase::Forwarding || !channel_) return;
  net::Outbox& out = channel_->outbox();
  if (policy_->framing().framing == BodyFraming::Chunked) {
    appendHex(out, bytes.size());
    out.reference(bytes);
    out.append("\r\n");
  } else {
    out.reference(bytes);
  }
}

void Exchange::requestBodyEnd() {
  bodyComplete_ = true;
  if (h2_) {
    h2_->resume(h2Id_);  // h2Body() ends the DATA once it has given everything
    return;
  }
  if (phase_ != Phase::Forwarding || !channel_) return;
  if (policy_->framing().framing == BodyFraming::Chunked) channel_->outbox().append("0\r\n\r\n");
}

bool Exchange::flushRequest() {
  if (h2_ && phase_ == Phase::Forwarding) {
    if (oversized_) {
      fail(policy_->tooLarge());  // resets the upstream stream: the target sees no whole body
      return false;
    }
    Http2Upstream& h2 = *h2_;
    h2.resume(h2Id_);
    h2BodyHeld_ = h2_ && h2Body_.size() - h2BodyPos_ >= kHttp2BodyHighWater;
    return h2_ && !h2BodyHeld_;
  }
  if (phase_ != Phase::Forwarding || !channel_) return false;
  if (oversized_) {
    // The target saw the head and part of the body: it must see an aborted connection.
    fail(policy_->tooLarge());
    return false;
  }
  const net::Io io = channel_->flush();
  if (io == net::Io::Failed) {
    upstreamFailed(UpstreamChannel::Failure::Reset, "connection reset by the target");
    return false;
  }
  if (io == net::Io::Again) {
    // A target that does not read its request is timed like one that does not answer.
    channel_->armReadTimeout(*readTimers_);
    return false;
  }
  if (bodyComplete_) requestSent();
  return true;
}

void Exchange::requestSent() {
  // From now on the target owes an answer within the read timeout.
  if (!responseStarted_) channel_->armReadTimeout(*readTimers_);
}

void Exchange::upstreamDrained() {
  if (!bodyComplete_) {
    client_->requestBodyWanted();
  } else {
    requestSent();
  }
}

void Exchange::upstreamReadable() {
  UpstreamChannel& channel = *channel_;
  net::Buffer& in = channel.input();
  responseBytes_ = responseBytes_ || in.unconsumed() > 0;
  for (;;) {
    std::size_t used = 0;
    Status status = Status::NeedMore;
    if (in.unconsumed() > 0 || response_.headComplete()) {
      status = response_.feed(in.data(), in.begin(), in.end(), this, used);
      in.consumed(used);
    }
    if (status == Status::NeedMore && in.unconsumed() == 0 && channel.closedByPeer()) {
      status = response_.finish(this);
      if (status == Status::NeedMore) {
        // Closed without a byte of response: a pooled connection the target had given up on.
        upstreamFailed(UpstreamChannel::Failure::Reset, "connection closed by the target");
        return;
      }
    }
    if (status == Status::NeedMore) break;
    if (status == Status::HeadComplete) {
      const int code = response_.head().status();
      if (code >= 100 && code < 200 && !(code == 101 && policy_->websocket())) continue;
      onResponseHead();
      // Done, or retried on another target: this channel's bytes are of no more use.
      if (phase_ == Phase::Done || channel_.get() != &channel) return;
      continue;
    }
    if (status == Status::MessageComplete) {
      const int code = response_.head().status();
      if (code >= 100 && code < 200 && code != 101) {
        // An interim response (100 Continue, 103): the final one follows on the connection.
        response_.reset();
        if (policy_->headRequest()) response_.expectNoBody();
        continue;
      }
      onResponseComplete();
      return;
    }
    responseMalformed();
    return;
  }
  if (in.unconsumed() == 0) in.reset();
  if (responseStarted_) {
    if (!client_->flushResponse()) {
      // The client is slower than the target: read on only once it has taken this.
      channel.cancelTimer();
      channel.pauseReading(true);
      return;
    }
  }
  if (bodyComplete_ || responseStarted_) channel.armReadTimeout(*readTimers_);
}

void Exchange::responseMalformed() {
  const std::string why = "target " + std::string(upstream()) +
                          " sent a malformed response: " + response_.errorMessage();
  if (responseStarted_) {
    logLine(why);
    dropChannel(true);
    client_->abortResponse();
    finish();
  } else {
    fail({502, why});
  }
}

void Exchange::onResponseHead() {
  context_.responseHeadArrived(RequestContext::Clock::now());
  const http::HttpHead& head = response_.head();
  plan_ = policy_->planResponse(head);
  if (plan_.refusal != 0) {
    logLine("target " + std::string(upstream()) + " of route " + route_->prefix + ": " +
            plan_.reason);
    fail({plan_.refusal, plan_.reason});
    return;
  }
  const int code = head.status();
  policy_->attemptEnded(code, loop_.events().now());
  if (const unsigned reason = retryReasonOfStatus(code))
    if (retried(static_cast<RetryReason>(reason))) return;
  context_.targetAnswered(code);
  const ResponseHead ready(*policy_, head, plan_);
  if (plan_.upgrade) {
    channel_->cancelTimer();
    phase_ = Phase::Done;
    client_->switchProtocols(ready, std::move(channel_));
    return;
  }
  responseStarted_ = true;
  client_->respond(ready);
}

void Exchange::data(const char* bytes, std::size_t size) {
  context_.bodySent(size);
  client_->responseBody(std::string_view(bytes, size));
}

void Exchange::onResponseComplete() {
  // Everything of the response is queued on the client side; nothing there refers to the
  // channel's buffer once flushed, so the channel can go back to the pool first.
  client_->flushResponse();
  const bool reusable = response_.keepAlive() && plan_.upstream != BodyFraming::UntilClose &&
                        bodyComplete_ && channel_ && channel_->outbox().empty() &&
                        channel_->input().unconsumed() == 0;
  if (reusable) {
    channel_->cancelTimer();
    UpstreamChannel::park(std::move(channel_));
  } else {
    dropChannel(!bodyComplete_);
  }
  finish();
  client_->responseEnd();
}

void Exchange::upstreamFailed(UpstreamChannel::Failure failure, const std::string& error) {
  if (phase_ == Phase::Done) return;
  using F = UpstreamChannel::Failure;
  const std::string& url = policy_->target()->url.canonical;
  if (phase_ == Phase::Connecting) {
    dropChannel(false);
    policy_->connectFailed(error, loop_.events().now());
    policy_->attemptEnded(0, loop_.events().now());
    attempt();
    return;
  }
  if (responseStarted_) {
    // Too late for an answer of the proxy's own: cut the client off so it cannot take the
    // partial body as complete.
    logLine("target " + url + " broke off its response to " +
            std::string(policy_->request().method()) + " " +
            std::string(policy_->request().target()) + ": " + error);
    dropChannel(true);
    client_->abortResponse();
    finish();
    return;
  }
  if (failure == F::ReadTimeout) {
    policy_->upstreamTimedOut();
    policy_->attemptEnded(0, loop_.events().now());
    const std::string why =
        "target " + url + " did not answer within " + formatDuration(policy_->readTimeout());
    if (retried(kRetryTimeout)) return;
    fail({504, why});
    return;
  }
  // A pooled connection the target had already closed: nothing was processed, so the request
  // goes again on a fresh connection (once).
  const bool reused = channel_ && channel_->reused();
  if (reused && !responseBytes_ && !retried_ && policy_->retryable()) {
    retried_ = true;
    policy_->retriedOnFreshConnection();
    dropChannel(true);
    connectNew();
    return;
  }
  policy_->attemptEnded(0, loop_.events().now());
  const std::string why = "target " + url + " failed before answering: " + error;
  if (retried(kRetryReset)) return;
  fail({502, why});
}

void Exchange::fail(const ProxyAnswer& answer) {
  dropChannel(true);
  context_.proxyAnswered(answer.status, 0);
  finish();
  if (answer.headers.empty() && !policy_->answerHeaders().empty()) {
    // A rate-limited route's every answer carries its RateLimit-* headers.
    ProxyAnswer withHeaders = answer;
    withHeaders.headers = policy_->answerHeaders();
    client_->answer(withHeaders);
    return;
  }
  client_->answer(answer);
}

void Exchange::clientGone() {
  if (phase_ == Phase::Done) return;
  context_.clientGone();
  // A request cut short must reach the target as an aborted connection, never as a
  // complete-looking one; a response in flight is of no use any more either.
  dropChannel(true);
  finish();
}

void Exchange::clientDrained() {
  if (h2_ && phase_ == Phase::Forwarding) {
    const std::size_t taken = h2Unconsumed_;
    h2Unconsumed_ = 0;
    armStreamRead();
    h2_->consume(h2Id_, taken);
    return;
  }
  if (phase_ != Phase::Forwarding || !channel_) return;
  channel_->pauseReading(false);
  channel_->armReadTimeout(*readTimers_);
}

void Exchange::dropChannel(bool abort) {
  if (h2_) {
    // RST_STREAM CANCEL unless the stream already ended (h2End() forgot it then).
    Http2Upstream* h2 = h2_;
    h2_ = nullptr;
    h2->cancel(*this, h2Id_);
    h2Id_ = 0;
  }
  h2Body_.clear();
  h2BodyPos_ = 0;
  h2Unconsumed_ = 0;
  h2ReadTimer_.cancel();
  if (!channel_) return;
  if (abort) channel_->abort();
  loop_.release(std::move(channel_));
}

void Exchange::finish() {
  phase_ = Phase::Done;
  deadline_.cancel();
  h2ReadTimer_.cancel();
  if (policy_) {
    policy_->release();
    policy_->leaveRoute();
  }
}

}  // namespace portico

namespace portico {

bool Exchange::http2Target() const {
  // "h2": prior knowledge to http targets, ALPN h2 alone to https ones. A WebSocket needs
  // HTTP/1.1's Upgrade.
  return route_->policies().upstream.protocol == UpstreamPolicy::Protocol::H2 &&
         !policy_->websocket();
}

bool Exchange::alpnDecides() const {
  return route_->policies().upstream.protocol == UpstreamPolicy::Protocol::Auto &&
         policy_->target()->url.tls && !policy_->websocket();
}

void Exchange::h2Ready(Http2Upstream& connection) {
  h2_ = &connection;
  phase_ = Phase::Forwarding;
  if (!submitHttp2()) {
    h2_ = nullptr;
    fail({502, "target " + std::string(upstream()) + " refused an HTTP/2 stream"});
    return;
  }
  if (!bodyComplete_) {
    client_->requestBodyWanted();
    if (phase_ != Phase::Forwarding) return;
  } else {
    armStreamRead();  // the request is whole: the target owes its head from now on
  }
  if (h2_) h2_->pumpSoon();
}

bool Exchange::submitHttp2() {
  // The upstream head is written once, by the policy, as HTTP/1.1 would carry it; read back, it
  // becomes the HTTP/2 fields (pseudo-headers, lower-case names, no connection-specific ones).
  std::string& text = loop_.scratch();
  text.clear();
  policy_->writeUpstreamHead(text);
  std::unique_ptr<http::HttpParser> parser = loop_.takeParser();
  std::size_t used = 0;
  const auto status = parser->feed(text.data(), 0, text.size(), nullptr, used);
  if (status == Status::Error || status == Status::NeedMore) {
    loop_.giveParser(std::move(parser));
    return false;
  }
  const http::HttpHead& head = parser->head();
  std::string names;  // lower-case names, one after the other
  names.reserve(text.size());
  for (std::size_t i = 0; i < head.fieldCount(); ++i) {
    if (connectionSpecific(head.known(i))) continue;
    for (char c : head.name(i)) names += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  std::vector<nghttp2_nv> fields;
  fields.reserve(head.fieldCount() + 5);
  fields.push_back(field(":method", head.method()));
  fields.push_back(field(":scheme", "http"));
  fields.push_back(
      field(":authority", head.get(http::KnownHeader::Host, policy_->target()->authority)));
  fields.push_back(field(":path", head.target()));
  std::size_t at = 0;
  for (std::size_t i = 0; i < head.fieldCount(); ++i) {
    if (connectionSpecific(head.known(i))) continue;
    const std::size_t n = head.name(i).size();
    fields.push_back(field(std::string_view(names).substr(at, n), head.value(i)));
    at += n;
  }
  if (policy_->clientWantsTrailers()) fields.push_back(field("te", "trailers"));
  h2Id_ = h2_->submit(*this, fields.data(), fields.size(), policy_->hasBody());
  loop_.giveParser(std::move(parser));
  return h2Id_ > 0;
}

long Exchange::h2Body(std::uint8_t* buffer, std::size_t length, bool& end) {
  const std::size_t n = std::min(length, h2Body_.size() - h2BodyPos_);
  std::memcpy(buffer, h2Body_.data() + h2BodyPos_, n);
  h2BodyPos_ += n;
  if (h2BodyPos_ == h2Body_.size()) {
    h2Body_.clear();
    h2BodyPos_ = 0;
  }
  if (n == 0 && !bodyComplete_) return -1;
  end = bodyComplete_ && h2Body_.empty();
  if (end && !responseStarted_) armStreamRead();
  if (h2BodyHeld_ && h2Body_.size() - h2BodyPos_ < kHttp2BodyHighWater) {
    h2BodyHeld_ = false;
    client_->requestBodyWanted();  // the target took it: the client may send more
  }
  return static_cast<long>(n);
}

void Exchange::h2Head(const http::HttpHead& head, bool endStream) {
  context_.responseHeadArrived(RequestContext::Clock::now());
  // A deep copy: the target's head lives only as long as this call.
  h2Response_.clear();
  h2Response_.setStatus(head.status());
  h2Response_.setVersion(1, 1);
  for (std::size_t i = 0; i < head.fieldCount(); ++i)
    h2Response_.addOwned(head.name(i), head.value(i));
  const int code = head.status();
  // HTTP/2 delimits a body by END_STREAM; the client side is told as HTTP/1.1 would say it.
  if (!head.has(http::KnownHeader::ContentLength) && code != 204 && code != 304) {
    if (endStream) {
      h2Response_.addOwned("Content-Length", "0");
    } else if (!policy_->headRequest()) {
      h2Response_.addOwned("Transfer-Encoding", "chunked");
    }
  }
  plan_ = policy_->planResponse(h2Response_);
  if (plan_.refusal != 0) {
    fail({plan_.refusal, plan_.reason});
    return;
  }
  context_.targetAnswered(code);
  responseStarted_ = true;
  h2GrpcAnswer_ = GrpcStatus::isGrpc(h2Response_);
  armStreamRead();
  client_->respond(ResponseHead(*policy_, h2Response_, plan_));
}

void Exchange::h2Data(std::string_view bytes) {
  if (!responseStarted_ || phase_ == Phase::Done) return;
  responseBytes_ = true;
  data(bytes.data(), bytes.size());
  if (client_->flushResponse()) {
    if (h2_) h2_->consume(h2Id_, bytes.size());
    armStreamRead();
  } else {
    h2Unconsumed_ += bytes.size();  // given back in clientDrained()
    h2ReadTimer_.cancel();          // the client holds the target back, not the other way
  }
}

void Exchange::h2Trailers(const http::HttpHead& trailers) {
  if (responseStarted_ && phase_ != Phase::Done) client_->responseTrailers(trailers);
}

void Exchange::h2End() {
  h2_ = nullptr;  // the stream is over; the connection forgot it
  h2Id_ = 0;
  if (phase_ == Phase::Done) return;
  // Done before the flush: an HTTP/2 client's stream may close inside it, which must not read
  // as the client leaving.
  finish();
  client_->flushResponse();
  client_->responseEnd();
}

void Exchange::h2Failed(UpstreamChannel::Failure failure, const std::string& error,
                        bool unprocessed) {
  h2_ = nullptr;
  h2Id_ = 0;
  if (phase_ == Phase::Done) return;
  using F = UpstreamChannel::Failure;
  const bool connectFailure =
      failure == F::ConnectRefused || failure == F::ConnectTimeout || failure == F::Handshake;
  if (unprocessed && !responseStarted_ && !connectFailure && !retried_ && !policy_->hasBody()) {
    // Refused by a target that is up (REFUSED_STREAM, beyond its GOAWAY): nothing was
    // processed, so the request goes again, once, on another connection to the same target
    // (a body already handed to the stream is gone, so only a request without one).
    retried_ = true;
    phase_ = Phase::Connecting;
    Http2Upstream::attach(loop_, policy_->targetHandle(), *this, *connectTimers_);
    return;
  }
  // A connect that failed: another target may take it (upstreamFailed, as for HTTP/1.1).
  if (unprocessed && !responseStarted_ && connectFailure) phase_ = Phase::Connecting;
  upstreamFailed(failure, error);
}

}  // namespace portico

namespace portico {

void Exchange::armDeadline(const http::HttpHead& request) {
  if (!GrpcStatus::isGrpc(request)) return;
  const auto timeout = GrpcTimeout::of(request);
  if (!timeout) return;
  // The whole call's bound. It never lengthens a wait: the read timeout still runs for the
  // answer's head, so a long grpc-timeout cannot hold the proxy past it, while a stream's
  // messages may go on until the deadline.
  loop_.requestDeadlines().armAt(deadline_, loop_.events().now() + timeout->count());
}

void Exchange::armStreamRead() {
  if (phase_ == Phase::Done || (responseStarted_ && h2GrpcAnswer_)) {
    h2ReadTimer_.cancel();
    return;
  }
  readTimers_->arm(h2ReadTimer_, loop_.events().now());
}

void Exchange::onTimeout(int tag) {
  if (phase_ == Phase::Done || !policy_) return;
  if (tag == kDeadline) {
    deadlineExceeded();
  } else if (h2_) {
    upstreamFailed(UpstreamChannel::Failure::ReadTimeout, "timed out");
  }
}

void Exchange::deadlineExceeded() {
  policy_->upstreamTimedOut();
  if (!responseStarted_) {
    // A 504 of the proxy's own is DEADLINE_EXCEEDED in trailers-only form (GrpcStatus);
    // fail() drops the stream, so the target sees RST_STREAM CANCEL and stops working on it.
    fail({504, "the request's grpc-timeout passed before target " + std::string(upstream()) +
                   " answered"});
    return;
  }
  // Part of the answer went out: it ends with DEADLINE_EXCEEDED in its trailers, as a gRPC
  // server's own deadline would end it.
  dropChannel(true);
  http::HttpHead trailers;
  trailers.addOwned("grpc-status", "4");
  trailers.addOwned("grpc-message", "Deadline Exceeded");
  finish();
  client_->responseTrailers(trailers);
  client_->flushResponse();
  client_->responseEnd();
}

}  // namespace portico

namespace portico {

void Exchange::h2RequestTrailers(std::vector<nghttp2_nv>& fields) {
  const std::vector<std::string>* trailers = client_ ? client_->requestTrailers() : nullptr;
  if (!trailers) return;
  for (std::size_t i = 0; i + 1 < trailers->size(); i += 2) {
    const std::string& name = (*trailers)[i];
    // Never a field a trailer must not carry (RFC 9110 6.5.1); nghttp2 refused pseudo-headers
    // and connection-specific ones on the way in.
    if (http::classifyHeader(name) == http::KnownHeader::ContentLength) continue;
    fields.push_back(field(name, (*trailers)[i + 1]));
  }
}

}  // namespace portico
