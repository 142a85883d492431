#include "loop/Exchange.h"

#include <cstdio>

#include "balance/TargetState.h"
#include "base/Duration.h"
#include "base/Log.h"
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
  routed_.clear();
  heldBody_.clear();
  holding_ = false;
  phase_ = Phase::Idle;
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
  if (policy_->framing().refused()) {
    fail({policy_->framing().refusal, policy_->framing().reason});
    return;
  }
  holdLimit_ = policy_->hasBody() ? policy_->replayLimit() : 0;
  holding_ = holdLimit_ > 0;
  heldBody_.clear();
  // Most routes have none of rateLimit, maxRequests and retries: one branch.
  if (route.state &&
      (route.policies.resilience.rateLimit.enabled() || route.policies.resilience.maxRequests > 0 ||
       route.policies.resilience.retries.enabled())) {
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
  channel_ = UpstreamChannel::takeIdle(loop_, *target);
  if (channel_) {
    channel_->adopt(*this);
    sendHead();
    return;
  }
  phase_ = Phase::Connecting;
  channel_ = std::make_unique<UpstreamChannel>(loop_, policy_->targetHandle());
  channel_->connect(*this);  // may report at once
}

void Exchange::upstreamConnected() {
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
  if (holding_) {
    if (heldBody_.size() + bytes.size() <= holdLimit_) {
      heldBody_.append(bytes);
    } else {
      // Too large to replay: it is forwarded as it comes and never retried.
      holding_ = false;
      std::string().swap(heldBody_);
    }
  }
  if (phase_ != Phase::Forwarding || !channel_ || bytes.empty()) return;
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
  if (phase_ != Phase::Forwarding || !channel_) return;
  if (policy_->framing().framing == BodyFraming::Chunked) channel_->outbox().append("0\r\n\r\n");
}

bool Exchange::flushRequest() {
  if (phase_ != Phase::Forwarding || !channel_) return false;
  const net::Io io = channel_->flush();
  if (io == net::Io::Failed) {
    upstreamFailed(UpstreamChannel::Failure::Reset, "connection reset by the target");
    return false;
  }
  if (io == net::Io::Again) {
    // A target that does not read its request is timed like one that does not answer.
    channel_->armReadTimeout();
    return false;
  }
  if (bodyComplete_) requestSent();
  return true;
}

void Exchange::requestSent() {
  // From now on the target owes an answer within the read timeout.
  if (!responseStarted_) channel_->armReadTimeout();
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
  if (bodyComplete_ || responseStarted_) channel.armReadTimeout();
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
        "target " + url + " did not answer within " + formatDuration(loop_.context().timeouts.read);
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
    phase_ = Phase::Connecting;
    channel_ = std::make_unique<UpstreamChannel>(loop_, policy_->targetHandle());
    channel_->connect(*this);
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
  if (phase_ != Phase::Forwarding || !channel_) return;
  channel_->pauseReading(false);
  channel_->armReadTimeout();
}

void Exchange::dropChannel(bool abort) {
  if (!channel_) return;
  if (abort) channel_->abort();
  loop_.release(std::move(channel_));
}

void Exchange::finish() {
  phase_ = Phase::Done;
  if (policy_) {
    policy_->release();
    policy_->leaveRoute();
  }
}

}  // namespace portico
