#include "module/ForwardingHandler.h"

#include <Poco/Buffer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>

#include <cassert>
#include <chrono>
#include <cstdio>

#include "balance/PickState.h"
#include "balance/TargetState.h"
#include "base/Log.h"
#include "forward/ErrorReply.h"
#include "forward/ForwardingPolicy.h"
#include "http/HttpParser.h"
#include "module/BodyReader.h"
#include "module/UpstreamConnection.h"
#include "module/WebSocketTunnel.h"
#include "observe/AccessLog.h"

namespace portico {
namespace {

using http::BodyFraming;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerRequestImpl;
using Poco::Net::HTTPServerResponse;
using Status = http::HttpParser::Status;

/// Big enough that one recv() of a fast stream fills it; small enough for the thread's stack.
constexpr std::size_t kBufferSize = 16 * 1024;
// What the proxy reads and drops of a refused request body before closing (discardBody).
constexpr std::uint64_t kLingerBytes = 1024 * 1024;

std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// The POCO request as the policy reads requests.
http::HttpHead headOf(const HTTPServerRequest& request) {
  http::HttpHead head;
  head.setMethod(head.own(request.getMethod()));
  head.setTarget(head.own(request.getURI()));
  head.setVersion(1, request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0 ? 0 : 1);
  for (const auto& [name, value] : request) head.addOwned(name, value);
  return head;
}

/// Writes the response body to the client as the parser delivers it.
class ResponseSink final : public http::BodySink {
 public:
  explicit ResponseSink(std::ostream& out) : out_(out) {}
  void data(const char* bytes, std::size_t size) override {
    out_.write(bytes, static_cast<std::streamsize>(size));
    written += size;
  }
  std::uint64_t written{0};

 private:
  std::ostream& out_;
};

/// One request's trip through the module.
class BlockingForwarder {
 public:
  BlockingForwarder(const ProxyContext& context, const Route& route, HTTPServerRequest& request,
                    HTTPServerResponse& response, const std::string& target)
      : ctx_(context),
        req_(request),
        resp_(response),
        impl_(dynamic_cast<HTTPServerRequestImpl*>(&request)),
        head_(headOf(request)),
        peer_(request.clientAddress().host().toString()),
        policy_(context, route, head_, target, peer_, context.trusted.contains(peer_), false),
        timeouts_{policy_.connectTimeout(), policy_.readTimeout()} {}

  void run();

  int status{0};
  std::uint64_t bytes{0};
  std::string upstream{"-"};
  /// When the target's response head arrived (the epoch when none did).
  std::chrono::steady_clock::time_point responseHeadAt{};
  const ForwardingPolicy& policy() const { return policy_; }

 private:
  enum class Outcome { Answered, ConnectFailed };

  Outcome tryTarget(TargetState& target);
  /// A fresh connection to `target`, or null when it was refused (counted as a connect failure).
  std::unique_ptr<UpstreamConnection> connectTo(TargetState& target);
  bool sendRequest(UpstreamConnection& conn, std::string& detail);
  void relay(std::unique_ptr<UpstreamConnection> conn, TargetState& target,
             http::HttpParser& parser, char* buffer, std::size_t begin, std::size_t end);
  /// Reads until the final response head is parsed (interim 1xx skipped); false when it
  /// answered the client with the failure instead.
  bool readResponseHead(UpstreamConnection& conn, TargetState& target, http::HttpParser& parser,
                        char* buffer, std::string& head, std::size_t& parsed);
  void sendResponseHead(const http::HttpHead& upstreamHead, const ForwardingPolicy::Response& plan);
  /// Relays the body from `pending` on; false when the client or the target broke off.
  bool streamBody(UpstreamConnection& conn, TargetState& target, http::HttpParser& parser,
                  char* buffer, std::string_view pending, std::ostream& out);
  void tunnel(std::unique_ptr<UpstreamConnection> conn, const http::HttpHead& head,
              const ForwardingPolicy::Response& plan, const char* rest, std::size_t restSize);
  /// `headers`: "Name: value\r\n" lines besides the reply's own (Retry-After, RateLimit-*).
  void reply(int code, const std::string& message, const std::string& headers = "");
  void abortClient();
  /// Reads and drops what is left of a refused request body, at most kLingerBytes.
  void discardBody(BodyReader& in);

  const ProxyContext& ctx_;
  HTTPServerRequest& req_;
  HTTPServerResponse& resp_;
  HTTPServerRequestImpl* impl_;
  http::HttpHead head_;
  std::string peer_;
  ForwardingPolicy policy_;
  UpstreamTimeouts timeouts_;  // the route's, else the proxy's
  bool bodyStarted_{false};
  bool oversized_{false};  // the body outgrew the route's maxBodySize
  bool bodyDone_{false};
};

void BlockingForwarder::run() {
  if (impl_ == nullptr) {
    reply(500, "the proxy needs a POCO HTTPServer request");
    return;
  }
  if (policy_.framing().refused()) {
    reply(policy_.framing().refusal, policy_.framing().reason);
    return;
  }
  // A body announced over the route's limit is refused before any target is chosen.
  if (policy_.framing().framing == BodyFraming::Length &&
      policy_.bodyTooLarge(policy_.framing().length)) {
    BodyReader in(impl_->session(), BodyFraming::Length, policy_.framing().length);
    discardBody(in);
    reply(413, policy_.tooLarge().message);
    return;
  }
  // The route's rateLimit and maxRequests hold here too (retries and outlier detection are
  // the event loops' alone).
  const ProxyAnswer refused = policy_.admit(steadyMs() * 1000);
  if (refused.status != 0) {
    reply(refused.status, refused.message, refused.headers);
    return;
  }
  // Balancers are shared and immutable; where the rotations stand is this thread's own.
  thread_local PickStates threadPicks;
  while (TargetState* target = policy_.nextTarget(threadPicks, steadyMs())) {
    upstream = target->url.canonical;
    if (tryTarget(*target) == Outcome::Answered) return;
  }
  const ProxyAnswer answer = policy_.exhausted();
  reply(answer.status, answer.message);
}

bool BlockingForwarder::sendRequest(UpstreamConnection& conn, std::string& detail) {
  std::string head;
  policy_.writeUpstreamHead(head);
  if (!conn.sendAll(head)) {
    detail = conn.error();
    return false;
  }
  if (!policy_.hasBody()) return true;
  const http::MessageFraming& framing = policy_.framing();
  BodyReader in(impl_->session(), framing.framing, framing.length);
  char buffer[kBufferSize];
  std::uint64_t total = 0;
  for (;;) {
    std::size_t n = 0;
    try {
      n = in.read(buffer, sizeof buffer);
    } catch (const std::exception& e) {
      // The client's body broke off: the target must see an aborted connection.
      detail = e.what();
      conn.socket().setLinger(true, 0);
      throw;
    }
    bodyStarted_ = true;
    total += n;
    if (policy_.bodyTooLarge(total)) {
      // A body without a length that outgrew the route's limit: the target sees an aborted
      // connection, the client a 413.
      conn.socket().setLinger(true, 0);
      oversized_ = true;
      detail = "request body over maxBodySize";
      discardBody(in);
      return false;
    }
    std::string_view piece(buffer, n);
    if (framing.framing == BodyFraming::Chunked) {
      char size[24];
      const int len = std::snprintf(size, sizeof size, n == 0 ? "0\r\n\r\n" : "%zx\r\n", n);
      if (!conn.sendAll(std::string_view(size, static_cast<std::size_t>(len)))) break;
      if (n > 0 && (!conn.sendAll(piece) || !conn.sendAll("\r\n"))) break;
    } else if (n > 0 && !conn.sendAll(piece)) {
      break;
    }
    if (n == 0) {
      bodyDone_ = true;
      return true;
    }
  }
  detail = conn.error();
  return false;
}

std::unique_ptr<UpstreamConnection> BlockingForwarder::connectTo(TargetState& target) {
  auto conn = std::make_unique<UpstreamConnection>(target.url, timeouts_, ctx_.upstreamTls.get());
  try {
    conn->open();
    return conn;
  } catch (const Poco::Exception& e) {
    policy_.connectFailed(e.displayText(), steadyMs());
  } catch (const std::runtime_error& e) {  // the TLS handshake
    policy_.connectFailed(e.what(), steadyMs());
  }
  return nullptr;
}

BlockingForwarder::Outcome BlockingForwarder::tryTarget(TargetState& target) {
  // Only this handler gives connections to the pool, so what it takes back is its own kind.
  assert(target.pool);  // tables built without event loops (the module's) give every target one
  std::unique_ptr<UpstreamConnection> conn(
      static_cast<UpstreamConnection*>(target.pool->take().release()));
  if (conn) conn->readTimeout(timeouts_.read);
  if (!conn) conn = connectTo(target);
  if (!conn) return Outcome::ConnectFailed;
  bool retried = false;
  for (;;) {
    std::string detail;
    bool sent = false;
    try {
      sent = sendRequest(*conn, detail);
    } catch (const std::exception&) {
      status = 499;  // the client broke off its body
      abortClient();
      return Outcome::Answered;
    }
    if (oversized_) {
      reply(413, policy_.tooLarge().message);
      return Outcome::Answered;
    }
    http::HttpParser parser(http::HttpParser::Kind::Response);
    if (policy_.headRequest()) parser.expectNoBody();
    char buffer[kBufferSize];
    int n = sent ? conn->receive(buffer, sizeof buffer) : -1;
    if (n > 0) {
      relay(std::move(conn), target, parser, buffer, 0, static_cast<std::size_t>(n));
      return Outcome::Answered;
    }
    if (sent && conn->timedOut()) {
      policy_.upstreamTimedOut();
      reply(504, "target " + target.url.canonical + " did not answer within " +
                     std::to_string(timeouts_.read.count()) + "ms");
      return Outcome::Answered;
    }
    if (detail.empty()) detail = n == 0 ? "connection closed by the target" : conn->error();
    // A pooled connection the backend had already closed: nothing was processed, so the
    // request goes again on a fresh connection (once).
    if (conn->reused() && !retried && policy_.retryable() && !bodyStarted_) {
      retried = true;
      policy_.retriedOnFreshConnection();
      conn.reset();
      conn = connectTo(target);
      if (!conn) return Outcome::ConnectFailed;
      continue;
    }
    reply(502, "target " + target.url.canonical + " failed before answering: " + detail);
    return Outcome::Answered;
  }
}

bool BlockingForwarder::readResponseHead(UpstreamConnection& conn, TargetState& target,
                                         http::HttpParser& parser, char* buffer, std::string& head,
                                         std::size_t& parsed) {
  for (;;) {
    std::size_t used = 0;
    const Status s = parser.feed(head.data(), parsed, head.size(), nullptr, used);
    parsed += used;
    if (s == Status::Error) {
      reply(502, "target " + target.url.canonical +
                     " sent a malformed response: " + parser.errorMessage());
      return false;
    }
    if (s == Status::HeadComplete || s == Status::MessageComplete) {
      const int code = parser.head().status();
      if (code >= 100 && code < 200 && !(code == 101 && policy_.websocket())) {
        // An interim response: skip it (and its end), the final one follows.
        if (s == Status::HeadComplete) continue;
        head.erase(0, parsed);
        parsed = 0;
        parser.reset();
        if (policy_.headRequest()) parser.expectNoBody();
        continue;
      }
      return true;
    }
    const int n = conn.receive(buffer, kBufferSize);
    if (n <= 0) {
      if (conn.timedOut()) {
        policy_.upstreamTimedOut();
        reply(504, "target " + target.url.canonical + " did not answer in time");
      } else {
        reply(502, "target " + target.url.canonical + " failed before answering: " +
                       (n == 0 ? std::string("connection closed") : conn.error()));
      }
      return false;
    }
    head.append(buffer, static_cast<std::size_t>(n));
  }
}

void BlockingForwarder::sendResponseHead(const http::HttpHead& upstreamHead,
                                         const ForwardingPolicy::Response& plan) {
  status = upstreamHead.status();
  resp_.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status),
                           std::string(upstreamHead.reason()));
  std::string previous;
  // The route's responseHeaders remove or set: POCO's own Date or Server go too.
  for (const auto& name : policy_.route().rules().response.dropped) resp_.erase(name);
  policy_.forEachResponseHeader(upstreamHead, [&](std::string_view name, std::string_view value) {
    // set() replaces the Date/Server POCO put in already; repeats (Set-Cookie) stay repeated.
    if (http::equalsNoCase(previous, name)) {
      resp_.add(std::string(name), std::string(value));
    } else {
      resp_.set(std::string(name), std::string(value));
    }
    previous = std::string(name);
  });
  resp_.setChunkedTransferEncoding(false);
  switch (plan.client) {
    case BodyFraming::Empty:
      if (const auto announced = http::MessageFraming::announcedLength(upstreamHead))
        resp_.setContentLength64(static_cast<Poco::Int64>(*announced));
      break;
    case BodyFraming::Length:
      resp_.setContentLength64(static_cast<Poco::Int64>(plan.length));
      break;
    case BodyFraming::Chunked:
      resp_.setChunkedTransferEncoding(true);
      break;
    case BodyFraming::UntilClose:
      resp_.setKeepAlive(false);
      break;
  }
}

bool BlockingForwarder::streamBody(UpstreamConnection& conn, TargetState& target,
                                   http::HttpParser& parser, char* buffer, std::string_view pending,
                                   std::ostream& out) {
  ResponseSink sink(out);
  for (;;) {
    std::size_t used = 0;
    Status s = Status::NeedMore;
    if (!pending.empty() || parser.headComplete()) {
      s = parser.feed(pending.data(), 0, pending.size(), &sink, used);
      pending.remove_prefix(used);
    }
    if (s == Status::MessageComplete) break;
    if (s == Status::Error) {
      logLine("target " + target.url.canonical +
              " sent a malformed response body: " + parser.errorMessage());
      abortClient();
      bytes = sink.written;
      return false;
    }
    if (!pending.empty()) continue;
    out.flush();  // a streamed body streams
    if (!out) {
      status = 499;
      bytes = sink.written;
      return false;
    }
    const int n = conn.receive(buffer, kBufferSize);
    if (n == 0) {
      if (parser.finish(&sink) == Status::MessageComplete) break;
    }
    if (n <= 0) {
      // Too late for a 502: cut the client off so it cannot take the partial body as complete.
      logLine("target " + target.url.canonical + " broke off its response to " + req_.getMethod() +
              " " + req_.getURI());
      abortClient();
      bytes = sink.written;
      return false;
    }
    pending = std::string_view(buffer, static_cast<std::size_t>(n));
  }
  out.flush();
  bytes = sink.written;
  if (!out) status = 499;
  return static_cast<bool>(out);
}

void BlockingForwarder::relay(std::unique_ptr<UpstreamConnection> conn, TargetState& target,
                              http::HttpParser& parser, char* buffer, std::size_t begin,
                              std::size_t end) {
  assert(begin < end && end <= kBufferSize && "relay() starts with the bytes of a read");
  // The head first (a head larger than one read is collected in `head`).
  std::string head(buffer + begin, end - begin);
  std::size_t parsed = 0;
  if (!readResponseHead(*conn, target, parser, buffer, head, parsed)) return;
  parser.detachHead();
  responseHeadAt = std::chrono::steady_clock::now();
  const http::HttpHead& upstreamHead = parser.head();
  const ForwardingPolicy::Response plan = policy_.planResponse(upstreamHead);
  if (plan.refusal != 0) {
    logLine("target " + target.url.canonical + ": " + plan.reason);
    reply(plan.refusal, plan.reason);
    return;
  }
  if (plan.upgrade) {
    tunnel(std::move(conn), upstreamHead, plan, head.data() + parsed, head.size() - parsed);
    return;
  }
  sendResponseHead(upstreamHead, plan);
  std::ostream& out = resp_.send();
  const std::string_view pending(head.data() + parsed, head.size() - parsed);
  if (!streamBody(*conn, target, parser, buffer, pending, out)) return;
  if (parser.keepAlive() && plan.upstream != BodyFraming::UntilClose &&
      bodyDone_ == policy_.hasBody())
    target.pool->give(std::move(conn));
}

void BlockingForwarder::tunnel(std::unique_ptr<UpstreamConnection> conn, const http::HttpHead& head,
                               const ForwardingPolicy::Response&, const char* rest,
                               std::size_t restSize) {
  if (conn->tls()) {
    // The relay moves raw socket bytes; portico-proxy's own event loops carry TLS under it.
    reply(502, "target " + conn->socket().peerAddress().toString() +
                   ": a WebSocket to an https target is relayed by portico-proxy, not by the "
                   "embedded module");
    return;
  }
  status = 101;
  resp_.setStatusAndReason(HTTPResponse::HTTP_SWITCHING_PROTOCOLS, std::string(head.reason()));
  policy_.forEachResponseHeader(head, [&](std::string_view name, std::string_view value) {
    resp_.set(std::string(name), std::string(value));
  });
  resp_.set("Connection", "Upgrade");
  resp_.set("Upgrade", std::string(head.get("Upgrade", "websocket")));
  std::ostream& out = resp_.send();
  out.flush();
  if (!out) {
    status = 499;
    return;
  }
  Poco::Buffer<char> fromClient(0);
  impl_->session().drainBuffer(fromClient);
  WebSocketTunnel relay(impl_->detachSocket(), conn->socket(), ctx_.timeouts.read);
  bytes =
      relay.run(std::string(fromClient.begin(), fromClient.size()), std::string(rest, restSize));
}

void BlockingForwarder::reply(int code, const std::string& message, const std::string& headers) {
  status = code;
  if (resp_.sent()) {
    abortClient();
    return;
  }
  // An unread request body would be parsed as the next request: close the connection then.
  const bool keepAlive = !policy_.hasBody() || bodyDone_;
  try {
    const ErrorReply reply(code, message, headers.empty() ? policy_.answerHeaders() : headers);
    reply.send(resp_, keepAlive);
    bytes = reply.body().size();
  } catch (const Poco::Exception&) {
    status = 499;
  }
}

void BlockingForwarder::discardBody(BodyReader& in) {
  // nginx's lingering close, bounded: a client still sending a body the proxy refused would
  // get a TCP reset when the connection closes with its bytes unread, and a reset can reach it
  // before the 413 (RFC 9112 9.6). Reading the rest first lets it finish and read the answer;
  // past kLingerBytes the proxy stops reading (and a large sender may see the reset).
  char buffer[kBufferSize];
  try {
    while (in.bytesRead() < kLingerBytes && in.read(buffer, sizeof buffer) > 0) {
    }
  } catch (const std::exception&) {
    // The client broke off or is too slow: the connection closes anyway.
  }
}

void BlockingForwarder::abortClient() {
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
  BlockingForwarder forwarder(context_, *route_, request, response, target_);
  try {
    forwarder.run();
  } catch (const std::exception& e) {
    // Nothing above should throw; never let one request take the server's thread down.
    logLine(std::string("unexpected error proxying ") + request.getURI() + ": " + e.what());
    if (!response.sent()) {
      try {
        ErrorReply(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal proxy error")
            .send(response, false);
      } catch (const std::exception&) {
      }
    }
    forwarder.status = 500;
  }
  const double ms = AccessLog::millisecondsSince(started);
  if (ProxyMetrics* m = context_.metrics) {
    const TargetState* target = forwarder.policy().target();
    m->requestDone(m->threadShard(), route_->metrics.get(),
                   target ? target->metrics.get() : nullptr, forwarder.status, ms / 1000);
  }
  if (context_.accessLog->enabled()) {
    static const std::string kNoValue;  // get() returns a reference to its default
    const std::string peer = request.clientAddress().host().toString();
    AccessRecord record;
    record.client = peer;
    record.method = request.getMethod();
    record.target = request.getURI();
    record.protocol = request.getVersion();
    record.referer = request.get("Referer", kNoValue);
    record.userAgent = request.get("User-Agent", kNoValue);
    record.requestId = forwarder.policy().requestId();
    record.traceId = forwarder.policy().trace().traceId();
    if (forwarder.responseHeadAt != std::chrono::steady_clock::time_point{})
      record.upstreamMs =
          std::chrono::duration<double, std::milli>(forwarder.responseHeadAt - started).count();
    record.route = route_->prefix;
    record.host = route_->host;
    record.upstream = forwarder.upstream;
    record.status = forwarder.status;
    record.bytes = forwarder.bytes;
    record.durationMs = ms;
    context_.accessLog->write(record);
  }
}

}  // namespace portico
