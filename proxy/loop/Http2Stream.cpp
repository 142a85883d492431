#include "loop/Http2Stream.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "base/Duration.h"
#include "forward/ErrorReply.h"
#include "forward/GrpcStatus.h"
#include "forward/ResponseHead.h"
#include "http/ClientTimerLists.h"
#include "http/HttpDate.h"
#include "http/NumberText.h"
#include "loop/Http2Connection.h"
#include "loop/Http2FieldList.h"
#include "loop/ProxyLoop.h"
#include "loop/RequestLog.h"
#include "observe/ProxyMetrics.h"
#include "routing/RequestHost.h"
#include "routing/RequestRouting.h"

namespace portico {
namespace {

constexpr std::size_t kStreamHighWater = 64 * 1024;  // response bytes a stream buffers

using Timeout = ClientPhase::Timeout;

}  // namespace

Http2Stream::Http2Stream(Http2Connection& connection, std::int32_t id)
    : conn_(connection),
      id_(id),
      started_(RequestContext::Clock::now()),
      request_(connection.takeRequestHead()),
      timer_(*this, 0) {
  // The header timeout bounds the whole header block (HEADERS and its CONTINUATIONs).
  phase_.headStarted();
  apply();
}

Http2Stream::~Http2Stream() {
  timer_.cancel();
  if (exchange_) {
    if (exchange_->inFlight()) exchange_->clientGone();
    conn_.loop().recycle(std::move(exchange_));
  }
  // Safe to reuse: a recycled exchange is cleared without reading its request again.
  conn_.giveRequestHead(std::move(request_));
  conn_.giveFieldList(std::move(trailers_));
}

Exchange& Http2Stream::exchange() {
  if (!exchange_) {
    exchange_ = conn_.loop().takeExchange();
    exchange_->context().begin(started_, conn_.peer(), "HTTP/2.0");
  }
  return *exchange_;
}

void Http2Stream::headersDone(bool endStream) {
  requestEnded_ = endStream;
  headComplete_ = true;
  request_->finish(endStream);
  phase_.headComplete(endStream);
  apply();
  // Over SETTINGS_MAX_HEADER_LIST_SIZE (= proxy.max_header_bytes): as HTTP/1.1 refuses a head
  // over the limit, before any target sees it.
  if (request_->tooLarge()) answer({431, "request header fields too large"});
}

void Http2Stream::dispatch() {
  if (closed_ || answered_ || exchange_ || !headComplete_) return;
  const std::shared_ptr<const RouteTable>& table = conn_.loop().table();
  const http::HttpHead& head = request_->head();
  const std::string_view host = head.get(http::KnownHeader::Host, {});  // :authority
  if (table->hasHostRoutes()) {
    // Once routes differ by host, a stream for a host this connection's certificate does not
    // cover (a client reusing the connection too eagerly) must not reach another site's routes.
    std::string scratch;
    const std::string_view name = RequestHost::of(host, scratch);
    if (!conn_.certificateCovers(name)) {
      answer({421, "misdirected request: the certificate of this connection does not cover " +
                       std::string(name)});
      return;
    }
  }
  RequestRouting routing = RequestRouting::of(*table, head.target(), host);
  if (!routing.route) {
    answer({routing.status, routing.message});
    return;
  }
  exchange().start(*this, table, *routing.route, request_->head(), std::move(routing.resolved),
                   conn_.peer(), conn_.peerTrusted(), conn_.secure());
}

void Http2Stream::data(const std::uint8_t* bytes, std::size_t size) {
  if (!exchange_ || !exchange_->inFlight() || answered_) {
    if (!exchange_ && !answered_ && !closed_) {
      // Not dispatched yet (the head came in this very input): kept until the target is ready.
      pendingBody_.append(reinterpret_cast<const char*>(bytes), size);
      unconsumed_ += size;
      return;
    }
    // Nobody takes them any more: drop them but keep the connection's window open.
    nghttp2_session_consume(conn_.session(), id_, size);
    return;
  }
  phase_.bodyProgress();
  apply();
  if (!bodyWanted_) {
    pendingBody_.append(reinterpret_cast<const char*>(bytes), size);
    unconsumed_ += size;
    return;
  }
  exchange_->requestBody(std::string_view(reinterpret_cast<const char*>(bytes), size));
  unconsumed_ += size;
  deliverMore();
}

void Http2Stream::endOfRequest() {
  requestEnded_ = true;
  phase_.requestComplete();
  apply();
  if (exchange_ && exchange_->inFlight() && bodyWanted_) {
    exchange_->requestBodyEnd();
    exchange_->flushRequest();
  }
}

void Http2Stream::closed() {
  closed_ = true;
  timer_.cancel();
  if (exchange_ && exchange_->inFlight()) {
    exchange_->clientGone();
    if (!logged_) log(499, exchange_->bytesSent());
  } else if (!exchange_ && !logged_) {
    // Never processed: as nginx, no access-log line and no request counted, but an operator
    // under a rapid-reset attack (CVE-2023-44487) sees these streams in their own counter.
    if (ProxyMetrics* m = conn_.loop().context().metrics)
      m->http2StreamRefused(m->threadShard(), ProxyMetrics::StreamRefusal::ResetBeforeStart);
  }
  releaseBody();
}

ssize_t Http2Stream::read(std::uint8_t* buffer, std::size_t length, std::uint32_t* flags) {
  const std::size_t available = out_.size() - outPos_;
  if (available == 0 && !outEnd_) return NGHTTP2_ERR_DEFERRED;
  const std::size_t n = std::min(length, available);
  std::memcpy(buffer, out_.data() + outPos_, n);
  outPos_ += n;
  if (outPos_ == out_.size()) {
    out_.clear();
    outPos_ = 0;
    if (outEnd_) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      eofQueued_ = true;
      if (trailers_) sendTrailers(flags);
    }
  } else if (outPos_ > 32 * 1024) {
    out_.erase(0, outPos_);
    outPos_ = 0;
  }
  outputChanged(n > 0 || (*flags & NGHTTP2_DATA_FLAG_EOF));
  if (paused_ && out_.size() - outPos_ < kStreamHighWater) {
    // The client took enough: the exchange reads the target again.
    paused_ = false;
    if (exchange_ && exchange_->inFlight()) exchange_->clientDrained();
  }
  return static_cast<ssize_t>(n);
}

void Http2Stream::requestBodyWanted() {
  bodyWanted_ = true;
  if (!requestEnded_) phase_.bodyWanted();
  apply();
  if (!pendingBody_.empty()) exchange_->requestBody(pendingBody_);
  if (requestEnded_) exchange_->requestBodyEnd();
  deliverMore();
}

void Http2Stream::respond(const ResponseHead& head) {
  const http::HttpHead& upstream = head.upstream();
  const ForwardingPolicy::Response& plan = head.plan();
  status_ = head.status();
  char status[24];
  Http2FieldList& fields = conn_.fieldList();
  fields.add(":status", http::decimalText(static_cast<std::uint64_t>(status_), status));
  if (head.addsDate()) fields.add("date", http::httpDate());
  if (head.addsServer()) fields.add("server", "portico");
  head.forEachHeader(
      [&](std::string_view name, std::string_view value) { fields.addLowercased(name, value); });
  bool body = true;
  std::uint64_t length = 0;
  bool haveLength = false;
  if (plan.client == http::BodyFraming::Empty) {
    body = false;
    if (const auto announced = http::MessageFraming::announcedLength(upstream)) {
      length = *announced;
      haveLength = true;
    }
  } else if (plan.client == http::BodyFraming::Length) {
    length = plan.length;
    haveLength = true;
    body = plan.length > 0;
  }
  char digits[24];
  if (haveLength) fields.add("content-length", http::decimalText(length, digits));
  submit(fields, body);
  if (!body) outEnd_ = true;
}

void Http2Stream::responseBody(std::string_view bytes) {
  out_.append(bytes);
  bytes_ += bytes.size();
}

bool Http2Stream::flushResponse() {
  // Reachable closed: the client reset the stream while its exchange still forwards.
  if (closed_) return false;
  nghttp2_session_resume_data(conn_.session(), id_);
  if (out_.size() - outPos_ < kStreamHighWater) {
    // Written with the connection's other output at the end of the batch (pumpSoon).
    conn_.pumpSoon();
    outputChanged(false);
    return true;
  }
  conn_.pump();
  if (closed_) return false;
  outputChanged(false);
  if (out_.size() - outPos_ >= kStreamHighWater) {
    paused_ = true;
    return false;
  }
  return true;
}

void Http2Stream::responseTrailers(const http::HttpHead& trailers) {
  if (trailers.fieldCount() == 0) return;
  if (!trailers_) trailers_ = conn_.takeFieldList();
  for (std::size_t i = 0; i < trailers.fieldCount(); ++i)
    trailers_->addLowercased(trailers.name(i), trailers.value(i));
}

void Http2Stream::sendTrailers(std::uint32_t* flags) {
  // RFC 9113 8.1: the trailers' HEADERS frame ends the stream instead of the last DATA frame.
  if (nghttp2_submit_trailer(conn_.session(), id_, trailers_->nva(), trailers_->size()) == 0)
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
  conn_.giveFieldList(std::move(trailers_));  // nghttp2 copied them
}

void Http2Stream::responseEnd() {
  outEnd_ = true;
  if (!closed_) {
    nghttp2_session_resume_data(conn_.session(), id_);
    conn_.pumpSoon();
    outputChanged(false);
  }
  log(status_, bytes_);
}

void Http2Stream::answer(const ProxyAnswer& a) {
  answered_ = true;
  releaseBody();
  status_ = a.status;
  if (GrpcStatus::isGrpc(request_->head())) {
    answerGrpc(a);
    return;
  }
  const ErrorReply reply(a.status, a.message, a.headers);
  char status[24];
  Http2FieldList& fields = conn_.fieldList();
  fields.add(":status", http::decimalText(static_cast<std::uint64_t>(a.status), status));
  reply.forEachHttp2Header(
      [&](std::string_view name, std::string_view value) { fields.addLowercased(name, value); });
  out_ = reply.body();
  outPos_ = 0;
  outEnd_ = true;
  submit(fields, true);
  log(a.status, reply.body().size());
  conn_.pumpSoon();
  outputChanged(false);
}

void Http2Stream::answerGrpc(const ProxyAnswer& a) {
  // Trailers-only (gRPC over HTTP/2): HTTP 200 and the status in the one HEADERS frame that ends
  // the stream; the access log keeps the proxy's HTTP status, which says more to an operator.
  char code[24];
  Http2FieldList& fields = conn_.fieldList();
  fields.add(":status", "200");
  fields.add("content-type", "application/grpc");
  fields.add("grpc-status",
             http::decimalText(static_cast<std::uint64_t>(GrpcStatus::codeFor(a.status)), code));
  fields.add("grpc-message", GrpcStatus::encodeMessage(a.message));
  fields.add("date", http::httpDate());
  fields.add("server", "portico");
  submit(fields, false);
  log(a.status, 0);
  conn_.pumpSoon();
  outputChanged(false);
}

void Http2Stream::abortResponse() {
  reset(NGHTTP2_INTERNAL_ERROR);
}

void Http2Stream::switchProtocols(const ResponseHead&,
                                  std::unique_ptr<UpstreamChannel> upstreamChannel) {
  // No WebSocket over HTTP/2 (RFC 8441 is not offered): clients use HTTP/1.1 for it.
  upstreamChannel->abort();
  abortResponse();
}

void Http2Stream::onTimeout(int tag) {
  armed_ = Timeout::None;
  if (closed_) return;  // reachable: closed earlier in the batch whose timers expire now
  const ClientLimits& limits = conn_.loop().limits();
  switch (static_cast<Timeout>(tag)) {
    case Timeout::Header:
      answer({408, "request head not received within " + formatDuration(limits.headerTimeout)});
      return;
    case Timeout::Body:
      // The client stopped sending its body: the target must not take what came as complete.
      abandon();
      if (status_ != 0) {
        reset(NGHTTP2_CANCEL);
      } else {
        answer({408, "request body not received within " + formatDuration(limits.bodyTimeout)});
      }
      return;
    case Timeout::Send:
      // The client does not take the response (its window stays closed): it pays with the
      // stream, not the loop with memory or the target with a connection held open.
      abandon();
      reset(NGHTTP2_CANCEL);
      return;
    default:
      return;
  }
}

void Http2Stream::submit(Http2FieldList& fields, bool body) {
  if (closed_) return;  // reachable: the exchange answers a stream the client already reset
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                              std::uint32_t* flags, nghttp2_data_source* src, void*) -> ssize_t {
    return static_cast<Http2Stream*>(src->ptr)->read(buf, length, flags);
  };
  // nghttp2 copies the fields: the list serves the connection's next response.
  nghttp2_submit_response(conn_.session(), id_, fields.nva(), fields.size(),
                          body ? &provider : nullptr);
  if (!body) eofQueued_ = true;
}

void Http2Stream::deliverMore() {
  // The client's window opens only for what the target took, so a slow target slows the client
  // down instead of filling memory.
  const bool flowing = exchange_->flushRequest();
  // Queued for the target either way (written, or copied into its outbox by a blocked flush):
  // requestBodyWanted() must not queue these bytes a second time.
  pendingBody_.clear();
  if (!flowing) {
    bodyWanted_ = false;  // requestBodyWanted() comes again when the target drained
    if (!requestEnded_) phase_.bodyBacklogged();  // the target is slow, not the client
    apply();
    return;
  }
  if (unconsumed_ > 0) {
    nghttp2_session_consume(conn_.session(), id_, unconsumed_);
    unconsumed_ = 0;
    conn_.pumpSoon();
  }
}

void Http2Stream::releaseBody() {
  // Body bytes nobody forwards any more: the connection's window must open for them again, or
  // each refused upload would shrink it for good.
  pendingBody_.clear();
  if (unconsumed_ == 0) return;
  nghttp2_session_consume(conn_.session(), id_, unconsumed_);
  unconsumed_ = 0;
}

void Http2Stream::apply() {
  if (closed_) return;  // reachable: every handler ends in apply(), also after closed()
  const auto listOf = [this](Timeout timeout) {
    // Keep-alive and linger belong to the connection, and tunnels do not exist on HTTP/2: a
    // stream's phase never asks for them.
    assert(timeout != Timeout::KeepAlive && timeout != Timeout::Linger &&
           timeout != Timeout::Tunnel);
    return conn_.loop().clientTimers(timeout, exchange_ ? exchange_->route() : nullptr);
  };
  followPhase(phase_, armed_, timer_, listOf, conn_.loop().events().now());
}

void Http2Stream::outputChanged(bool progress) {
  const bool unsent = out_.size() > outPos_ || (outEnd_ && !eofQueued_);
  if (unsent) {
    if (progress) phase_.writeProgress();
    phase_.writeBlocked();
  } else {
    phase_.writeDrained();
  }
  apply();
}

void Http2Stream::reset(std::uint32_t errorCode) {
  if (!closed_) nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id_, errorCode);
  log(status_, bytes_);
  conn_.pumpSoon();
}

void Http2Stream::abandon() {
  answered_ = true;  // body bytes still arriving are dropped
  if (exchange_ && exchange_->inFlight()) exchange_->clientGone();
  releaseBody();
}

void Http2Stream::log(int status, std::uint64_t bytes) {
  if (logged_) return;
  logged_ = true;
  // The stream counts status and bytes itself: a reset keeps the target's status where the
  // exchange would record 499, and an answer of its own has the ErrorReply's body length.
  RequestContext& context = exchange().context();
  if (!request_->empty()) context.headParsed(request_->head());
  context.outcome(status, bytes);
  logRequest(conn_.loop().context(), context);
}

}  // namespace portico
