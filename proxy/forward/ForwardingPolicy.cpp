#include "forward/ForwardingPolicy.h"

#include <strings.h>

#include <cstdio>

#include "base/ByteSize.h"
#include "base/Duration.h"
#include "base/Log.h"
#include "forward/OutlierDetector.h"
#include "forward/RetryBudget.h"
#include "http/HttpDate.h"
#include "http/NumberText.h"
#include "routing/RoutePath.h"

namespace portico {
namespace {

using http::BodyFraming;

/// Headers the proxy sets itself (or frames itself) instead of copying from the client.
const std::vector<http::KnownHeader> kRequestComputed = {
    http::KnownHeader::ContentLength,   http::KnownHeader::Expect,
    http::KnownHeader::XForwardedFor,   http::KnownHeader::XForwardedHost,
    http::KnownHeader::XForwardedProto, http::KnownHeader::XOriginHost,
    http::KnownHeader::XRequestId};

/// Skips targets already tried for this request and, on the first pass, those cooling down.
class TriedFilter final : public CandidateFilter {
 public:
  TriedFilter(const Route& route, const std::size_t* tried, std::size_t count, bool skipCooling,
              std::int64_t now)
      : route_(route), tried_(tried), count_(count), skipCooling_(skipCooling), now_(now) {}

  bool allowed(std::size_t index) const override {
    for (std::size_t i = 0; i < count_; ++i) {
      if (tried_[i] == index) return false;
    }
    const TargetState& target = *route_.candidates()[index].target;
    // nginx max_conns: a target at its limit sits the pick out, whatever else is left.
    const int max = target.maxConnections.load(std::memory_order_relaxed);
    if (max > 0 && target.inFlight.load(std::memory_order_relaxed) >= max) {
      limited = true;
      return false;
    }
    return !skipCooling_ || (target.avoidUntilMs.load(std::memory_order_relaxed) <= now_ &&
                             target.ejectedUntilMs.load(std::memory_order_relaxed) <= now_);
  }

  /// Some candidate was passed over for being at its maxConnections.
  mutable bool limited{false};

 private:
  const Route& route_;
  const std::size_t* tried_;
  std::size_t count_;
  bool skipCooling_;
  std::int64_t now_;
};

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void appendNumber(std::string& out, std::uint64_t n) {
  http::appendDecimal(out, n);
}

/// The client's traceparent when it sent exactly one (two make the request's trace invalid).
std::string_view incomingTrace(const http::HttpHead& request) {
  std::string_view value;
  if (request.count(TraceContext::kParentHeader) != 1) return {};
  request.find(TraceContext::kParentHeader, value);
  return value;
}

}  // namespace

const std::vector<http::KnownHeader>& ForwardingPolicy::responseComputed() {
  static const std::vector<http::KnownHeader> names = {http::KnownHeader::ContentLength};
  return names;
}

ForwardingPolicy::ForwardingPolicy(const ProxyContext& context, const Route& route,
                                   const http::HttpHead& request, std::string_view routedTarget,
                                   std::string_view peer, bool peerTrusted, bool tls)
    : ctx_(context),
      route_(route),
      request_(request),
      target_(routedTarget.empty() ? request.target() : routedTarget),
      peer_(peer),
      peerTrusted_(peerTrusted),
      tls_(tls),
      framing_(http::MessageFraming::ofRequest(request)),
      trace_(incomingTrace(request), context.traceSample, RequestIdGenerator::forThisThread()) {
  const std::string_view method = request.method();
  head_ = method == "HEAD";
  idempotent_ = method != "POST" && method != "PATCH" && method != "LOCK";
  replaySafe_ = method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
                method == "PUT" || method == "DELETE";
  std::string_view upgrade;
  websocket_ = request.find(http::KnownHeader::Upgrade, upgrade) &&
               http::equalsNoCase(upgrade, "websocket") &&
               HeaderFilter::listsToken(request, "upgrade");
  std::string_view expect;
  expectContinue_ = request.find(http::KnownHeader::Expect, expect) &&
                    http::equalsNoCase(expect, "100-continue") && request.versionMinor() >= 1;
  std::string_view id;
  requestId_ = request.find(RequestIdGenerator::kHeader, id) && RequestIdGenerator::acceptable(id)
                   ? id
                   : RequestIdGenerator::forThisThread().next(generatedId_);
}

ForwardingPolicy::~ForwardingPolicy() {
  release();
  leaveRoute();
}

ProxyAnswer ForwardingPolicy::admit(std::int64_t nowUs) {
  const ResiliencePolicy& p = route_.policies().resilience;
  if (!route_.state) return {};
  if (p.rateLimit.enabled()) {
    ProxyAnswer refused = rateLimited(nowUs);
    if (refused.status != 0) return refused;
  }
  if (p.maxRequests > 0 || p.retries.enabled()) {
    const int before = route_.state->inFlight.fetch_add(1, std::memory_order_relaxed);
    inRoute_ = true;
    if (p.maxRequests > 0 && before >= p.maxRequests) {
      leaveRoute();
      if (ctx_.metrics && route_.metrics)
        ctx_.metrics->overflowed(ctx_.metrics->threadShard(), *route_.metrics);
      return {503, atLimit(p.maxRequests), answerHeaders_};
    }
  }
  return {};
}

ProxyAnswer ForwardingPolicy::rateLimited(std::int64_t nowUs) {
  const RateLimitPolicy& limit = route_.policies().resilience.rateLimit;
  // nginx limit_req's burst: that many requests above the rate, so a full bucket holds burst+1.
  const std::int64_t capacity = std::int64_t{limit.burst} + 1;
  const TokenBucket::Verdict v =
      limit.byClient
          ? route_.state->clients.take(clientKey(), nowUs, limit.requestsPerSecond, capacity)
          : route_.state->bucket.take(nowUs, limit.requestsPerSecond, capacity);
  // draft-ietf-httpapi-ratelimit-headers: the quota, what is left of it, seconds until it is full.
  std::string& h = answerHeaders_;
  h.append("RateLimit-Limit: ");
  appendNumber(h, static_cast<std::uint64_t>(limit.requestsPerSecond));
  h.append("\r\nRateLimit-Remaining: ");
  appendNumber(h, static_cast<std::uint64_t>(v.remaining));
  h.append("\r\nRateLimit-Reset: ");
  appendNumber(h, static_cast<std::uint64_t>(v.resetSeconds));
  h.append("\r\n");
  if (v.allowed) return {};
  h.append("Retry-After: ");
  appendNumber(h, static_cast<std::uint64_t>(v.retryAfterSeconds));
  h.append("\r\n");
  return {429,
          "rate limit of " + std::to_string(limit.requestsPerSecond) +
              " requests/s exceeded for route " + route_.prefix,
          answerHeaders_};
}

std::string ForwardingPolicy::atLimit(int limit) const {
  return "route " + route_.prefix + " is at its limit of " + std::to_string(limit) +
         " requests in flight";
}

void ForwardingPolicy::leaveRoute() {
  if (onRetry_) route_.state->retriesInFlight.fetch_sub(1, std::memory_order_relaxed);
  if (inRoute_) route_.state->inFlight.fetch_sub(1, std::memory_order_relaxed);
  onRetry_ = inRoute_ = false;
}

void ForwardingPolicy::attemptEnded(int status, std::int64_t nowMs) {
  const OutlierPolicy& p = route_.policies().resilience.outlier;
  if (!p.enabled() || !current_) return;
  const OutlierDetector detector(p);
  // Ejections are rare; counting who is out only then keeps the common path to one load.
  std::size_t ejectedNow = 0;
  if (detector.isError(status))
    for (const auto& t : route_.targets)
      if (t->ejectedUntilMs.load(std::memory_order_relaxed) > nowMs) ++ejectedNow;
  const auto length = detector.record(*current_, status, nowMs, ejectedNow, route_.targets.size());
  if (length.count() == 0) return;
  if (ctx_.metrics && current_->metrics)
    ctx_.metrics->ejected(ctx_.metrics->threadShard(), *current_->metrics);
  logLine("target " + current_->url.canonical + " of route " + route_.prefix + " ejected for " +
          formatDuration(length) + " after " + std::to_string(p.consecutiveErrors) +
          " consecutive errors (ejection " +
          std::to_string(current_->ejections.load(std::memory_order_relaxed)) + ")");
}

void ForwardingPolicy::returnFromEjection(std::int64_t nowMs) {
  std::int64_t until = current_->ejectedUntilMs.load(std::memory_order_relaxed);
  if (until == 0 || until > nowMs) return;
  if (!current_->ejectedUntilMs.compare_exchange_strong(until, 0, std::memory_order_relaxed))
    return;
  logLine("target " + current_->url.canonical + " of route " + route_.prefix +
          " returns from ejection");
}

bool ForwardingPolicy::retriesLeft() const {
  return retries_ < route_.policies().resilience.retries.attempts;
}

std::size_t ForwardingPolicy::replayLimit() const {
  const RetryPolicy& p = route_.policies().resilience.retries;
  if (!p.enabled() || !(replaySafe_ || p.nonIdempotent)) return 0;
  return ctx_.retryBuffer;
}

bool ForwardingPolicy::retryOn(RetryReason reason, bool bodyHeld) {
  const RetryPolicy& p = route_.policies().resilience.retries;
  if (!p.enabled() || !p.retriesOn(reason) || !retriesLeft() || !route_.state) return false;
  if (!(replaySafe_ || p.nonIdempotent) || (hasBody() && !bodyHeld)) return false;
  // One place in the budget covers all of a request's retries.
  if (!onRetry_) {
    if (!RetryBudget(p.budgetPercent)
             .acquire(route_.state->inFlight, route_.state->retriesInFlight))
      return false;
    onRetry_ = true;
  }
  ++retries_;
  policyRetry_ = true;
  if (ctx_.metrics && route_.metrics) {
    std::size_t bit = 0;
    while (bit < 6 && (1u << bit) != reason) ++bit;
    ctx_.metrics->retried(ctx_.metrics->threadShard(), *route_.metrics, bit);
  }
  return true;
}

void ForwardingPolicy::retriedOnFreshConnection() const {
  if (ctx_.metrics && route_.metrics)
    ctx_.metrics->retried(ctx_.metrics->threadShard(), *route_.metrics,
                          ProxyMetrics::kStaleConnection);
}

void ForwardingPolicy::upstreamTimedOut() const {
  if (ctx_.metrics && current_ && current_->metrics)
    ctx_.metrics->upstreamTimedOut(ctx_.metrics->threadShard(), *current_->metrics);
}

const std::string& ForwardingPolicy::clientKey() const {
  if (!clientKeyKnown_) {
    std::string xff;
    request_.forEach(http::KnownHeader::XForwardedFor, [&xff](std::string_view v) {
      if (!xff.empty()) xff += ", ";
      xff.append(v);
    });
    clientKey_ = ctx_.trusted.clientAddress(xff, peer_);
    clientKeyKnown_ = true;
  }
  return clientKey_;
}

TargetState* ForwardingPolicy::nextTarget(PickStates& picks, std::int64_t nowMs) {
  release();
  current_ = nullptr;
  overflow_ = false;
  if (triedCount_ >= ctx_.maxAttempts || triedCount_ >= kMaxTried) return nullptr;
  // Only ip_hash reads the key; the others must not pay for working it out.
  static const std::string kNoKey;
  const std::string& key = route_.balancer == BalancerKind::IpHash ? clientKey() : kNoKey;
  // The balancer is the snapshot's, shared and immutable; where this caller's rotation stands
  // is its own (allocated once per route slot, then reused).
  PickState& state = picks.at(route_.slot);
  std::size_t index = Balancer::npos;
  bool limited = false;
  // A target with maxConnections takes a place in its in-flight count or is picked over again:
  // another loop may have taken the last place between the filter's look and ours.
  for (std::size_t races = 0; races <= route_.candidates().size(); ++races) {
    TriedFilter warm(route_, tried_, triedCount_, true, nowMs);
    index = route_.picker->pick(key, warm, state, nowMs);
    limited = limited || warm.limited;
    // Every remaining target is cooling down: still better to try one than to fail outright.
    if (index == Balancer::npos) {
      TriedFilter any(route_, tried_, triedCount_, false, nowMs);
      index = route_.picker->pick(key, any, state, nowMs);
      limited = limited || any.limited;
    }
    if (index == Balancer::npos) break;
    TargetState& target = *route_.candidates()[index].target;
    const int before = target.inFlight.fetch_add(1, std::memory_order_relaxed);
    const int max = target.maxConnections.load(std::memory_order_relaxed);
    if (max == 0 || before < max) break;
    target.inFlight.fetch_sub(1, std::memory_order_relaxed);
    limited = true;
    index = Balancer::npos;
  }
  if (index == Balancer::npos) {
    overflow_ = limited;
    if (limited && triedCount_ == 0 && ctx_.metrics && route_.metrics)
      ctx_.metrics->overflowed(ctx_.metrics->threadShard(), *route_.metrics);
    return nullptr;
  }
  // A target after one that refused: the request is retried elsewhere.
  if (triedCount_ > 0 && ctx_.metrics && route_.metrics && !policyRetry_)
    ctx_.metrics->retried(ctx_.metrics->threadShard(), *route_.metrics, 0);
  policyRetry_ = false;
  tried_[triedCount_++] = index;
  current_ = route_.candidates()[index].target.get();
  counted_ = true;
  returnFromEjection(nowMs);
  return current_;
}

void ForwardingPolicy::release() {
  if (counted_ && current_) current_->inFlight.fetch_sub(1, std::memory_order_relaxed);
  counted_ = false;
}

void ForwardingPolicy::connectFailed(const std::string& error, std::int64_t nowMs) {
  lastError_ = error;
  if (!current_) return;
  if (ctx_.metrics && current_->metrics)
    ctx_.metrics->connectFailed(ctx_.metrics->threadShard(), *current_->metrics);
  current_->avoidUntilMs.store(nowMs + ctx_.cooldown.count(), std::memory_order_relaxed);
  logLine("target " + current_->url.canonical + " of route " + route_.prefix +
          " did not accept a connection (" + error + "); passed over for " +
          formatDuration(ctx_.cooldown));
}

ProxyAnswer ForwardingPolicy::exhausted() const {
  if (overflow_ && triedCount_ == 0) {
    int limit = 0;
    for (const auto& c : route_.candidates())
      limit += c.target->maxConnections.load(std::memory_order_relaxed);
    return {503, atLimit(limit), answerHeaders_};
  }
  if (triedCount_ == 0) return {503, notInRotation(route_), answerHeaders_};
  return {502, "no target of route " + route_.prefix + " accepted a connection: " + lastError_,
          answerHeaders_};
}

std::string ForwardingPolicy::notInRotation(const Route& route) {
  if (route.targets.empty()) return "route " + route.prefix + " has no targets";
  std::size_t unhealthy = 0, draining = 0, disabled = 0, unweighted = 0;
  for (std::size_t i = 0; i < route.targets.size(); ++i) {
    if (route.standing[i].state == ServingState::Disabled) {
      ++disabled;
    } else if (!route.standing[i].healthy) {
      ++unhealthy;
    } else if (route.standing[i].state == ServingState::Draining) {
      ++draining;
    } else if (route.standing[i].weight <= 0) {
      ++unweighted;
    }
  }
  // The plain wording when health is the whole story; otherwise why each target is out, so an
  // operator who drained or disabled them sees it was their own doing.
  if (unhealthy == route.targets.size()) return "no healthy target for route " + route.prefix;
  std::string why;
  const auto add = [&why](std::size_t n, const char* what) {
    if (n == 0) return;
    if (!why.empty()) why += ", ";
    why += std::to_string(n) + " " + what;
  };
  add(unhealthy, "unhealthy");
  add(draining, "draining");
  add(disabled, "disabled");
  add(unweighted, "with weight 0");
  return "no target in rotation for route " + route.prefix + " (" + why + ")";
}

bool ForwardingPolicy::bodyTooLarge(std::uint64_t bytes) const {
  const std::uint64_t limit = route_.rules().maxBodySize;
  return limit > 0 && bytes > limit;
}

ProxyAnswer ForwardingPolicy::tooLarge() const {
  return {413, "request body larger than " + formatByteSize(route_.rules().maxBodySize) +
                   " (maxBodySize of route " + route_.prefix + ")"};
}

bool ForwardingPolicy::retryable() const {
  return framing_.framing == BodyFraming::Empty && idempotent_;
}

void ForwardingPolicy::appendForwardedFor(std::string& out) const {
  // X-Forwarded-For: the incoming chain with the peer appended when the peer is trusted, else
  // the peer alone (a client cannot forge its own chain).
  out.append("X-Forwarded-For: ");
  std::size_t hops = 0;
  if (peerTrusted_) {
    request_.forEach(http::KnownHeader::XForwardedFor, [&](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      if (v.empty()) return;
      if (hops++ > 0) out.append(", ");
      out.append(v);
    });
  }
  if (hops > 0) out.append(", ");
  out.append(peer_).append("\r\n");
}

void ForwardingPolicy::writeUpstreamHead(std::string& out) const {
  const TargetState& target = *current_;
  out.append(request_.method()).push_back(' ');
  const RequestRules& rules = route_.rules();
  RoutePath::appendUpstreamTarget(out, target_, route_.prefix, target.url.basePath,
                                  rules.replacement);
  out.append(" HTTP/1.1\r\n");
  const HeaderFilter filter(request_, &kRequestComputed);
  const HeaderRules& edits = rules.request;
  // A trace the proxy started replaces the client's traceparent and tracestate (TraceContext).
  const bool ownTrace = trace_.started();
  filter.forEachForwarded([&](std::string_view name, std::string_view value) {
    if (ownTrace && TraceContext::isTraceHeader(name)) return;
    if (!rules.preserveHost && http::equalsNoCase(name, "host")) return;
    if (!edits.empty() && edits.drops(name)) return;
    appendHeader(out, name, value);
  });
  if (ownTrace) appendHeader(out, TraceContext::kParentHeader, trace_.traceparent());
  out.append(edits.lines);
  // An HTTP/1.0 client may leave Host out; HTTP/1.1 upstream needs one. Without preserveHost
  // the target's own host[:port] goes, as nginx's default `proxy_set_header Host $proxy_host`.
  std::string_view host;
  const bool hasHost = request_.find(http::KnownHeader::Host, host);
  if (!hasHost || !rules.preserveHost) appendHeader(out, "Host", target.authority);
  appendForwardedFor(out);
  if (hasHost) appendHeader(out, "X-Forwarded-Host", host);
  appendHeader(out, "X-Forwarded-Proto", tls_ ? "https" : "http");
  appendHeader(out, "X-Origin-Host", target.authority);
  appendHeader(out, RequestIdGenerator::kHeader, requestId_);
  switch (framing_.framing) {
    case BodyFraming::Chunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case BodyFraming::Length:
      out.append("Content-Length: ");
      appendNumber(out, framing_.length);
      out.append("\r\n");
      break;
    default: {
      // Without a length a POST/PUT/PATCH would look unframed to some servers.
      const std::string_view m = request_.method();
      if (request_.has(http::KnownHeader::ContentLength) || m == "POST" || m == "PUT" ||
          m == "PATCH")
        out.append("Content-Length: 0\r\n");
    }
  }
  if (websocket_) {
    out.append("Connection: Upgrade\r\n");
    appendHeader(out, "Upgrade", request_.get(http::KnownHeader::Upgrade, "websocket"));
  }
  out.append("\r\n");
}

ForwardingPolicy::Response ForwardingPolicy::planResponse(const http::HttpHead& upstream) const {
  Response plan;
  const int code = upstream.status();
  if (websocket_ && code == 101) {
    plan.upgrade = true;
    return plan;
  }
  const bool bodyless = head_ || code < 200 || code == 204 || code == 304;
  const http::MessageFraming framing = http::MessageFraming::ofResponse(upstream, bodyless);
  if (framing.refused()) {
    plan.refusal = framing.refusal;
    plan.reason = framing.reason;
    return plan;
  }
  plan.upstream = framing.framing;
  plan.length = framing.length;
  switch (framing.framing) {
    case BodyFraming::Empty:
      plan.client = BodyFraming::Empty;
      break;
    case BodyFraming::Length:
      plan.client = BodyFraming::Length;
      break;
    case BodyFraming::Chunked:
    case BodyFraming::UntilClose:
      // Chunked stays chunked; a body delimited by the close becomes chunked so the client's
      // connection survives it. An HTTP/1.0 client knows no chunks: its connection closes.
      if (request_.versionMinor() >= 1) {
        plan.client = BodyFraming::Chunked;
      } else {
        plan.client = BodyFraming::UntilClose;
        plan.closeClient = true;
      }
      break;
  }
  return plan;
}

void ForwardingPolicy::writeResponseHead(const http::HttpHead& upstream, const Response& plan,
                                         bool keepAlive, std::string& out) const {
  out.append("HTTP/1.1 ");
  appendNumber(out, static_cast<std::uint64_t>(upstream.status()));
  out.push_back(' ');
  const std::string_view reason = upstream.reason();
  out.append(reason.empty() ? http::reasonPhrase(upstream.status()) : reason);
  out.append("\r\n");
  // The target's Date and Server win; the proxy adds its own only where the target sent none.
  if (addsDate(upstream)) appendHeader(out, "Date", http::httpDate());
  if (addsServer(upstream)) out.append("Server: portico\r\n");
  forEachResponseHeader(upstream, [&out](std::string_view name, std::string_view value) {
    appendHeader(out, name, value);
  });
  if (plan.upgrade) {
    out.append("Connection: Upgrade\r\n");
    appendHeader(out, "Upgrade", upstream.get(http::KnownHeader::Upgrade, "websocket"));
    out.append("\r\n");
    return;
  }
  switch (plan.client) {
    case BodyFraming::Empty:
      // HEAD and 304 keep the length the target announced.
      if (const auto announced = http::MessageFraming::announcedLength(upstream)) {
        out.append("Content-Length: ");
        appendNumber(out, *announced);
        out.append("\r\n");
      } else if (!head_ && upstream.status() >= 200 && upstream.status() != 204 &&
                 upstream.status() != 304) {
        out.append("Content-Length: 0\r\n");
      }
      break;
    case BodyFraming::Length:
      out.append("Content-Length: ");
      appendNumber(out, plan.length);
      out.append("\r\n");
      break;
    case BodyFraming::Chunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case BodyFraming::UntilClose:
      break;
  }
  if (!keepAlive) {
    out.append("Connection: close\r\n");
  } else if (request_.versionMinor() == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

bool ForwardingPolicy::clientWantsTrailers() const {
  bool wanted = false;
  request_.forEach(http::KnownHeader::Te, [&](std::string_view value) {
    http::forEachListItem(value, [&](std::string_view item) {
      if (item.size() == 8 && strncasecmp(item.data(), "trailers", 8) == 0) wanted = true;
    });
  });
  return wanted;
}

}  // namespace portico
