#include "ForwardingHandler.h"

#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>

#include <chrono>

#include "BodyReader.h"
#include "Duration.h"
#include "HeaderFilter.h"
#include "JsonError.h"
#include "Log.h"
#include "MessageFraming.h"
#include "RoutePath.h"
#include "WebSocketTunnel.h"

namespace portico {
namespace {

using Poco::Net::HTTPMessage;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerRequestImpl;
using Poco::Net::HTTPServerResponse;
using Framing = BodyReader::Framing;

/// Big enough that one recv() of a fast stream fills it; small enough for the thread's stack.
constexpr std::size_t kBufferSize = 16 * 1024;
constexpr std::size_t kMaxTried = 16;

std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Headers the proxy sets itself (or frames itself) instead of copying from the client.
const std::vector<std::string_view> kRequestComputed = {"Content-Length",    "Expect",
                                                        "X-Forwarded-For",   "X-Forwarded-Host",
                                                        "X-Forwarded-Proto", "X-Origin-Host"};
const std::vector<std::string_view> kResponseComputed = {"Content-Length"};

/// Every value of a repeated header as one comma-separated list.
std::string joined(const Poco::Net::NameValueCollection& message, const std::string& name) {
  std::string out;
  for (auto it = message.find(name); it != message.end() && sameHeaderName(it->first, name); ++it) {
    if (!out.empty()) out += ", ";
    out += it->second;
  }
  return out;
}

bool isWebSocketUpgrade(const HTTPServerRequest& request) {
  if (Poco::icompare(request.get("Upgrade", ""), "websocket") != 0) return false;
  for (const auto& token : HeaderFilter::connectionTokens(joined(request, "Connection"))) {
    if (token == "upgrade") return true;
  }
  return false;
}

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
    return !skipCooling_ ||
           route_.candidates[index]->avoidUntilMs.load(std::memory_order_relaxed) <= now_;
  }

 private:
  const Route& route_;
  const std::size_t* tried_;
  std::size_t count_;
  bool skipCooling_;
  std::int64_t now_;
};

/// Counts a request in a target's in-flight total for as long as it is open (least_conn reads it).
class InFlight {
 public:
  explicit InFlight(TargetState& target) : target_(target) {
    target_.inFlight.fetch_add(1, std::memory_order_relaxed);
  }
  ~InFlight() { target_.inFlight.fetch_sub(1, std::memory_order_relaxed); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  TargetState& target_;
};

/// One request's trip through the proxy.
class Forwarder {
 public:
  Forwarder(const ProxyContext& context, const Route& route, HTTPServerRequest& request,
            HTTPServerResponse& response, const std::string& target)
      : ctx_(context),
        route_(route),
        req_(request),
        resp_(response),
        target_(target.empty() ? request.getURI() : target) {}

  void run();

  std::string peer;
  int status{0};
  std::uint64_t bytes{0};
  const std::string* upstream{nullptr};

 private:
  enum class Outcome { Answered, ConnectFailed };
  enum class Failure { None, ClientGone, Timeout, Broken };

  void prepare(const std::string& incomingXff);
  Outcome tryTarget(TargetState& target, std::string& lastError);
  std::unique_ptr<UpstreamConnection> connect(TargetState& target, std::string& lastError);
  Failure exchangeHead(UpstreamConnection& conn, HTTPResponse& head, std::string& detail);
  void relay(std::unique_ptr<UpstreamConnection> conn, TargetState& target, HTTPResponse& head);
  void tunnel(std::unique_ptr<UpstreamConnection> conn, const HTTPResponse& head);
  void copyResponseHeaders(const HTTPResponse& head, bool upgrade);
  void reply(HTTPResponse::HTTPStatus code, const std::string& message);
  void abortClient();
  bool retryable() const;

  const ProxyContext& ctx_;
  const Route& route_;
  HTTPServerRequest& req_;
  HTTPServerResponse& resp_;
  const std::string& target_;  // the request target as routed
  HTTPServerRequestImpl* impl_{nullptr};
  HTTPRequest up_;
  Framing bodyFraming_{Framing::Empty};
  std::uint64_t bodyLength_{0};
  bool bodyStarted_{false};  // some of the client's body has been read (and maybe sent)
  bool bodyDone_{false};     // all of it has
  bool websocket_{false};
  std::string clientKey_;
  char buffer_[kBufferSize];
};

void Forwarder::run() {
  impl_ = dynamic_cast<HTTPServerRequestImpl*>(&req_);
  if (impl_ == nullptr) {
    reply(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "the proxy needs a POCO HTTPServer request");
    return;
  }
  peer = impl_->clientAddress().host().toString();
  const std::string xff = joined(req_, "X-Forwarded-For");
  clientKey_ = ctx_.trusted.clientAddress(xff, peer);
  websocket_ = isWebSocketUpgrade(req_);
  try {
    const auto framing = MessageFraming::ofRequest(req_);
    bodyFraming_ = framing.framing;
    bodyLength_ = framing.length;
  } catch (const FramingRefused& e) {
    bodyFraming_ = Framing::UntilClose;  // unknown end: reply() closes the connection
    reply(e.status, e.what());
    return;
  }
  prepare(xff);

  std::size_t tried[kMaxTried];
  std::size_t triedCount = 0;
  std::string lastError;
  // Balancers are shared and immutable; what moves between picks is this thread's own.
  thread_local PickStates threadPicks;
  PickState& picks = threadPicks.at(route_.slot);
  while (triedCount < ctx_.maxAttempts && triedCount < kMaxTried) {
    const std::int64_t now = steadyMs();
    std::size_t index = route_.picker->pick(
        clientKey_, TriedFilter(route_, tried, triedCount, true, now), picks, now);
    // Every remaining target is cooling down: still better to try one than to fail outright.
    if (index == Balancer::npos)
      index = route_.picker->pick(clientKey_, TriedFilter(route_, tried, triedCount, false, now),
                                  picks, now);
    if (index == Balancer::npos) break;
    tried[triedCount++] = index;
    TargetState& target = *route_.candidates[index];
    if (tryTarget(target, lastError) == Outcome::Answered) return;
    target.avoidUntilMs.store(steadyMs() + ctx_.cooldown.count(), std::memory_order_relaxed);
    logLine("target " + target.url.canonical + " of route " + route_.prefix +
            " did not accept a connection (" + lastError + "); passed over for " +
            formatDuration(ctx_.cooldown));
  }
  if (triedCount == 0) {
    reply(HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "no healthy target for route " + route_.prefix);
  } else {
    reply(HTTPResponse::HTTP_BAD_GATEWAY,
          "no target of route " + route_.prefix + " accepted a connection: " + lastError);
  }
}

void Forwarder::prepare(const std::string& incomingXff) {
  up_.setMethod(req_.getMethod());
  up_.setVersion(HTTPMessage::HTTP_1_1);
  const HeaderFilter filter(req_, &kRequestComputed);
  filter.copy(req_, up_);
  up_.set("X-Forwarded-For", ctx_.trusted.forwardedFor(incomingXff, peer));
  if (req_.has("Host")) up_.set("X-Forwarded-Host", req_.get("Host"));
  up_.set("X-Forwarded-Proto", "http");
  switch (bodyFraming_) {
    case Framing::Chunked:
      up_.setChunkedTransferEncoding(true);
      break;
    case Framing::Length:
      up_.setContentLength64(static_cast<Poco::Int64>(bodyLength_));
      break;
    default: {
      const std::string& m = req_.getMethod();
      // Without a length POCO would send POST/PUT/PATCH unframed (until close).
      if (req_.hasContentLength() || m == HTTPRequest::HTTP_POST || m == HTTPRequest::HTTP_PUT ||
          m == HTTPRequest::HTTP_PATCH)
        up_.setContentLength(0);
    }
  }
  if (websocket_) {
    up_.set("Connection", "Upgrade");
    up_.set("Upgrade", req_.get("Upgrade"));
  }
}

bool Forwarder::retryable() const {
  // Like nginx: a request with a body, or a non-idempotent one, is not sent twice.
  if (bodyFraming_ != Framing::Empty || bodyStarted_) return false;
  const std::string& m = req_.getMethod();
  return m != HTTPRequest::HTTP_POST && m != HTTPRequest::HTTP_PATCH && m != "LOCK";
}

std::unique_ptr<UpstreamConnection> Forwarder::connect(TargetState& target,
                                                       std::string& lastError) {
  auto conn = std::make_unique<UpstreamConnection>(target.url, ctx_.timeouts);
  try {
    conn->open();
    return conn;
  } catch (const Poco::Exception& e) {
    lastError = e.displayText();
    return nullptr;
  }
}

Forwarder::Outcome Forwarder::tryTarget(TargetState& target, std::string& lastError) {
  InFlight counted(target);
  upstream = &target.url.canonical;
  up_.setURI(RoutePath::upstreamTarget(target_, route_.prefix, target.url.basePath));
  up_.set("X-Origin-Host", target.url.authority());

  std::unique_ptr<UpstreamConnection> conn = target.pool.take();
  if (!conn) {
    conn = connect(target, lastError);
    if (!conn) return Outcome::ConnectFailed;
  }
  HTTPResponse head;
  for (;;) {
    std::string detail;
    const Failure failure = exchangeHead(*conn, head, detail);
    if (failure == Failure::None) break;
    if (failure == Failure::ClientGone) {
      status = 499;  // nginx's "client closed request"
      abortClient();
      return Outcome::Answered;
    }
    if (failure == Failure::Timeout) {
      reply(HTTPResponse::HTTP_GATEWAY_TIMEOUT, "target " + target.url.canonical +
                                                    " did not answer within " +
                                                    formatDuration(ctx_.timeouts.read));
      return Outcome::Answered;
    }
    // A pooled connection the backend had already closed: nothing was processed, so the
    // request goes again on a fresh connection (once).
    if (conn->reused() && retryable()) {
      conn = connect(target, lastError);
      if (!conn) return Outcome::ConnectFailed;
      continue;
    }
    reply(HTTPResponse::HTTP_BAD_GATEWAY,
          "target " + target.url.canonical + " failed before answering: " + detail);
    return Outcome::Answered;
  }
  relay(std::move(conn), target, head);
  return Outcome::Answered;
}

Forwarder::Failure Forwarder::exchangeHead(UpstreamConnection& conn, HTTPResponse& head,
                                           std::string& detail) {
  auto streamFailure = [&](const char* what) {
    const Poco::Exception* e = conn.networkException();
    detail = std::string(what) + (e ? ": " + e->displayText() : std::string());
    return (e && dynamic_cast<const Poco::TimeoutException*>(e)) ? Failure::Timeout
                                                                 : Failure::Broken;
  };
  try {
    std::ostream& out = conn.sendRequest(up_);
    if (bodyFraming_ != Framing::Empty) {
      BodyReader in(impl_->session(), bodyFraming_, bodyLength_);
      for (;;) {
        std::size_t n = 0;
        try {
          n = in.read(buffer_, sizeof buffer_);
        } catch (const std::exception& e) {
          detail = e.what();
          return Failure::ClientGone;
        }
        bodyStarted_ = true;
        if (n == 0) break;
        out.write(buffer_, static_cast<std::streamsize>(n));
        // Flush before the next read would wait on the client, so a slow upload streams.
        if (!in.hasBuffered()) out.flush();
        if (!out) return streamFailure("sending the request body");
      }
      bodyDone_ = true;
    }
    out.flush();
    if (!out) return streamFailure("sending the request");
    conn.receiveResponse(head);
    return Failure::None;
  } catch (const Poco::TimeoutException& e) {
    detail = e.displayText();
    return Failure::Timeout;
  } catch (const Poco::Exception& e) {
    detail = e.displayText();
    return Failure::Broken;
  }
}

void Forwarder::copyResponseHeaders(const HTTPResponse& head, bool upgrade) {
  const HeaderFilter filter(head, &kResponseComputed);
  const std::string* previous = nullptr;
  for (const auto& [name, value] : head) {
    if (!filter.forwards(name)) continue;
    // set() replaces the Date/Server POCO put in already; repeats (Set-Cookie) stay repeated.
    if (previous && sameHeaderName(*previous, name)) {
      resp_.add(name, value);
    } else {
      resp_.set(name, value);
    }
    previous = &name;
  }
  if (upgrade) {
    resp_.set("Connection", "Upgrade");
    resp_.set("Upgrade", head.get("Upgrade", "websocket"));
  }
}

void Forwarder::relay(std::unique_ptr<UpstreamConnection> conn, TargetState& target,
                      HTTPResponse& head) {
  const int code = static_cast<int>(head.getStatus());
  if (websocket_ && code == HTTPResponse::HTTP_SWITCHING_PROTOCOLS) {
    tunnel(std::move(conn), head);
    return;
  }
  const bool bodyless = req_.getMethod() == HTTPRequest::HTTP_HEAD || code < 200 ||
                        code == HTTPResponse::HTTP_NO_CONTENT ||
                        code == HTTPResponse::HTTP_NOT_MODIFIED;
  MessageFraming upstreamFraming;
  try {
    upstreamFraming = MessageFraming::ofResponse(head, bodyless);
  } catch (const FramingRefused& e) {
    // The connection is not given back to the pool: where this response ends is unknown.
    logLine("target " + target.url.canonical + " of route " + route_.prefix + ": " + e.what());
    reply(e.status, e.what());
    return;
  }
  const Framing framing = upstreamFraming.framing;
  const std::uint64_t length = upstreamFraming.length;
  BodyReader body(*conn, framing, length);

  resp_.setStatusAndReason(head.getStatus(), head.getReason());
  copyResponseHeaders(head, false);
  resp_.setChunkedTransferEncoding(false);
  if (framing == Framing::Empty) {
    // HEAD and 304 keep the length the upstream announced; POCO writes no body for them.
    if (const auto announced = MessageFraming::announcedLength(head))
      resp_.setContentLength64(static_cast<Poco::Int64>(*announced));
  } else if (framing == Framing::Length) {
    resp_.setContentLength64(static_cast<Poco::Int64>(length));
  } else if (req_.getVersion() == HTTPMessage::HTTP_1_1) {
    // Chunked stays chunked; a body delimited by close becomes chunked so the client's
    // connection survives it.
    resp_.setChunkedTransferEncoding(true);
  }
  status = code;

  std::ostream& out = resp_.send();
  for (;;) {
    std::size_t n = 0;
    try {
      n = body.read(buffer_, sizeof buffer_);
    } catch (const std::exception& e) {
      // Too late for a 502: cut the client off so it cannot take the partial body as complete.
      logLine("target " + target.url.canonical + " broke off its response to " + req_.getMethod() +
              " " + req_.getURI() + ": " + e.what());
      abortClient();
      return;
    }
    if (n == 0) break;
    out.write(buffer_, static_cast<std::streamsize>(n));
    // Flush whenever the next read may wait on the upstream, so streamed bodies stream.
    if (!body.hasBuffered()) out.flush();
    if (!out) {
      status = 499;
      return;
    }
    bytes += n;
  }
  out.flush();
  if (!out) {
    status = 499;
    return;
  }
  if (framing != Framing::UntilClose && head.getKeepAlive() && code >= 200)
    target.pool.give(std::move(conn));
}

void Forwarder::tunnel(std::unique_ptr<UpstreamConnection> conn, const HTTPResponse& head) {
  resp_.setStatusAndReason(head.getStatus(), head.getReason());
  copyResponseHeaders(head, true);
  status = HTTPResponse::HTTP_SWITCHING_PROTOCOLS;
  std::ostream& out = resp_.send();
  out.flush();
  if (!out) {
    status = 499;
    return;
  }
  Poco::Buffer<char> fromClient(0);
  Poco::Buffer<char> fromUpstream(0);
  impl_->session().drainBuffer(fromClient);
  conn->drainBuffer(fromUpstream);
  WebSocketTunnel relay(impl_->detachSocket(), conn->detachSocket(), ctx_.timeouts.read);
  bytes = relay.run(std::string(fromClient.begin(), fromClient.size()),
                    std::string(fromUpstream.begin(), fromUpstream.size()));
}

void Forwarder::reply(HTTPResponse::HTTPStatus code, const std::string& message) {
  status = code;
  if (resp_.sent()) {
    abortClient();
    return;
  }
  // An unread request body would be parsed as the next request: close the connection then.
  const bool keepAlive = bodyFraming_ == Framing::Empty || bodyDone_;
  try {
    JsonError::send(resp_, code, message, keepAlive);
    bytes = JsonError::body(message).size();
  } catch (const Poco::Exception&) {
    status = 499;
  }
}

void Forwarder::abortClient() {
  resp_.setKeepAlive(false);
  if (impl_ == nullptr) return;
  try {
    Poco::Net::StreamSocket& socket = impl_->socket();
    socket.setLinger(true, 0);  // close() now sends RST: the client sees an error, not an end
    socket.close();
  } catch (const Poco::Exception&) {
    // Already gone.
  }
}

}  // namespace

ForwardingHandler::ForwardingHandler(const ProxyContext& context,
                                     std::shared_ptr<const Route> route, std::string target)
    : context_(context), route_(std::move(route)), target_(std::move(target)) {}

void ForwardingHandler::handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) {
  const auto started = std::chrono::steady_clock::now();
  Forwarder forwarder(context_, *route_, request, response, target_);
  try {
    forwarder.run();
  } catch (const std::exception& e) {
    // Nothing above should throw; never let one request take the connection thread down.
    logLine(std::string("unexpected error proxying ") + request.getURI() + ": " + e.what());
    if (!response.sent()) {
      try {
        JsonError::send(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal proxy error",
                        false);
      } catch (const std::exception&) {
      }
    }
    forwarder.status = 500;
  }
  if (context_.accessLog->enabled()) {
    AccessRecord record;
    record.client = forwarder.peer;
    record.method = request.getMethod();
    record.target = request.getURI();
    record.route = route_->prefix;
    record.upstream =
        forwarder.upstream ? std::string_view(*forwarder.upstream) : std::string_view("-");
    record.status = forwarder.status;
    record.bytes = forwarder.bytes;
    record.durationMs = AccessLog::millisecondsSince(started);
    context_.accessLog->write(record);
  }
}

}  // namespace portico
