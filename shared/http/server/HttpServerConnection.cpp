#include "http/server/HttpServerConnection.h"

#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <exception>

#include "base/Duration.h"
#include "base/Log.h"
#include "http/ClientTimerLists.h"
#include "http/HttpDate.h"
#include "http/MessageFraming.h"
#include "http/server/HttpServer.h"

namespace portico::http {
namespace {

using Status = HttpParser::Status;

constexpr std::size_t kReadSize = 16 * 1024;
// Read per readiness event, so one fast client cannot starve the others on the loop.
constexpr int kReadsPerEvent = 4;

HttpParser::Limits parserLimits(const HttpServerLimits& limits) {
  HttpParser::Limits out;
  out.maxHeadBytes = limits.maxHeadBytes;
  out.maxTargetBytes = limits.maxTargetBytes;
  return out;
}

std::string sizeText(std::size_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

HttpServerConnection::HttpServerConnection(HttpServer& server, std::uint64_t id,
                                           net::FileDescriptor fd, std::string peer)
    : server_(server),
      id_(id),
      stream_(std::move(fd)),
      peer_(std::move(peer)),
      timer_(*this, 0),
      parser_(HttpParser::Kind::Request, parserLimits(server.limits())),
      registration_(server.loop(), *this) {}

// Still open (the server stopped with it): registration_ leaves the loop on its way out.
HttpServerConnection::~HttpServerConnection() {
  timer_.cancel();
}

void HttpServerConnection::start() {
  apply();
}

void HttpServerConnection::drain() {
  draining_ = true;
  if (state_ != State::Head) return;  // the request in progress is answered first
  if (!headStarted_ && in_.empty()) {
    close();
  } else {
    // Half a head will not be served now: said so rather than cut off.
    refuseUnparsed(503, "the server is shutting down");
  }
}

// --- timers and interest ------------------------------------------------------------------

void HttpServerConnection::apply() {
  if (state_ == State::Closed)
    return;  // reachable: readInput() and answered() apply after process()
  followPhase(
      phase_, armed_, timer_, [this](ClientPhase::Timeout t) { return server_.timers(t); },
      server_.loop().now());
  updateInterest();
}

void HttpServerConnection::updateInterest() {
  assert(state_ != State::Closed && stream_.open());  // apply() checks first
  std::uint32_t events = 0;
  if (phase_.reading()) events |= EPOLLIN | EPOLLRDHUP;
  if (phase_.writing()) events |= EPOLLOUT;
  // None while the service is working: the descriptor leaves the loop (Registration).
  if (!registration_.want(stream_.fd(), events)) {
    logWarn(std::string("http server: cannot watch a client connection: ") + std::strerror(errno));
    abort();
  }
}

void HttpServerConnection::onTimeout(int tag) {
  using T = ClientPhase::Timeout;
  armed_ = T::None;
  switch (static_cast<T>(tag)) {
    case T::Header:
      if (state_ != State::Head) return;
      if (headStarted_) {
        refuseUnparsed(408, "request head not received within " +
                                formatDuration(server_.limits().headerTimeout));
      } else {
        close();  // never sent a byte
      }
      return;
    case T::Body:
      if (state_ == State::Body)
        refuse(408,
               "request body not received within " + formatDuration(server_.limits().bodyTimeout));
      return;
    case T::Send:
      abort();  // the client stopped reading
      return;
    case T::KeepAlive:
    case T::Linger:
    case T::Tunnel:
    case T::None:
      close();
      return;
  }
}

// --- reading ------------------------------------------------------------------------------

void HttpServerConnection::onEvent(std::uint32_t events) {
  if (state_ == State::Closed) return;  // closed earlier in this batch
  if ((events & EPOLLOUT) && state_ == State::Writing) {
    flush();
    if (state_ == State::Closed) return;  // the write failed, or the answer ended the connection
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && phase_.reading()) readInput();
}

void HttpServerConnection::readInput() {
  char buffer[kReadSize];
  for (int i = 0; i < kReadsPerEvent && state_ != State::Closed && !peerClosed_; ++i) {
    std::size_t n = 0;
    const net::Io io = stream_.read(buffer, sizeof buffer, n);
    if (io == net::Io::Again) break;
    if (io == net::Io::Failed) {
      abort();
      return;
    }
    if (io == net::Io::Closed) {
      peerClosed_ = true;
      phase_.peerClosed();
      break;
    }
    if (state_ != State::Lingering) in_.append(buffer, n);
    if (n < sizeof buffer) break;
  }
  if (state_ == State::Lingering) {
    if (peerClosed_) close();
    return;
  }
  process();
  apply();
}

void HttpServerConnection::process() {
  while (state_ == State::Head && readHead()) {
  }
  if (state_ == State::Body) readBody();
}

bool HttpServerConnection::readHead() {
  if (pos_ == in_.size()) {
    if (peerClosed_) {
      if (headStarted_) {
        refuseUnparsed(400, "connection closed inside the request head");
      } else {
        close();  // between requests: nothing to answer
      }
    }
    return false;
  }
  if (!headStarted_) {
    headStarted_ = true;
    phase_.headStarted();
  }
  std::size_t used = 0;
  const Status status = parser_.feed(in_.data(), pos_, in_.size(), nullptr, used);
  pos_ += used;
  if (status == Status::Error) {
    refuseUnparsed(parser_.errorStatus(), parser_.errorMessage());
    return false;
  }
  if (status == Status::NeedMore) {
    if (peerClosed_) refuseUnparsed(400, "connection closed inside the request head");
    return false;
  }
  headComplete();
  return true;
}

void HttpServerConnection::readBody() {
  // Fed even with nothing new: a request without a body completes here.
  std::size_t used = 0;
  const Status status = parser_.feed(in_.data(), pos_, in_.size(), this, used);
  pos_ += used;
  // The head was copied out (detachHead): what the parser used can go.
  in_.erase(0, pos_);
  pos_ = 0;
  if (tooLarge_) {
    refuse(413, "request body is larger than " + sizeText(server_.limits().maxBodyBytes));
    return;
  }
  if (status == Status::Error) {
    refuse(parser_.errorStatus(), "malformed request body: " + parser_.errorMessage());
    return;
  }
  if (status == Status::MessageComplete) {
    dispatch();
    return;
  }
  if (used > 0) phase_.bodyProgress();
  if (peerClosed_) refuse(400, "connection closed before the end of the request body");
}

void HttpServerConnection::headComplete() {
  parser_.detachHead();
  const HttpHead& head = parser_.head();
  request_ = ServerRequest();
  request_.method = std::string(head.method());
  request_.target = std::string(head.target());
  request_.versionMinor = head.versionMinor();
  request_.peer = peer_;
  request_.headers.reserve(head.fieldCount());
  for (std::size_t i = 0; i < head.fieldCount(); ++i)
    request_.headers.emplace_back(std::string(head.name(i)), std::string(head.value(i)));
  keepAlive_ = parser_.keepAlive();
  state_ = State::Body;

  // The same rules as the data plane's: a length or coding two parsers could read differently
  // is refused, and the connection closes (where the next request starts is unknown).
  const MessageFraming framing = MessageFraming::ofRequest(head);
  if (framing.refused()) {
    refuse(framing.refusal, framing.reason);
    return;
  }
  const bool hasBody = framing.framing != BodyFraming::Empty;
  bool sendContinue = false;
  if (head.http11() && head.has(KnownHeader::Expect)) {
    // RFC 9110 10.1.1: 100-continue is the one expectation; an HTTP/1.0 client's is ignored.
    std::string_view expect;
    head.find(KnownHeader::Expect, expect);
    if (head.count(KnownHeader::Expect) > 1 || !equalsNoCase(expect, "100-continue")) {
      refuse(417, "unsupported expectation (only 100-continue is)");
      return;
    }
    sendContinue = hasBody;
  }
  if (framing.framing == BodyFraming::Length && framing.length > server_.limits().maxBodyBytes) {
    refuse(413, "request body is larger than " + sizeText(server_.limits().maxBodyBytes));
    return;
  }
  phase_.headComplete(!hasBody);
  if (hasBody) phase_.bodyWanted();
  if (sendContinue && pos_ == in_.size()) {
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    const net::Io io = out_.flush(stream_);
    if (io == net::Io::Failed || io == net::Io::Closed) {
      abort();
      return;
    }
    // A client that does not read the interim answer is still sent the final one after it.
  }
  apply();
}

void HttpServerConnection::data(const char* bytes, std::size_t size) {
  if (tooLarge_) return;
  if (request_.body.size() + size > server_.limits().maxBodyBytes) {
    tooLarge_ = true;
    request_.body.clear();
    return;
  }
  request_.body.append(bytes, size);
}

void HttpServerConnection::dispatch() {
  state_ = State::Working;
  phase_.requestComplete();
  phase_.inputFull(true);  // one request at a time: what follows waits for this answer
  apply();
  HttpService& service = server_.service();
  server_.submit(id_,
                 [&service, request = std::move(request_)] { return service.handle(request); });
  request_ = ServerRequest();
}

void HttpServerConnection::refuse(int status, const std::string& message) {
  closeAfter_ = true;
  state_ = State::Working;
  phase_.requestComplete();
  phase_.inputFull(true);
  apply();
  request_.body.clear();
  HttpService& service = server_.service();
  server_.submit(id_, [&service, request = std::move(request_), status, message] {
    return service.refused(request, ServerResponse::error(status, message));
  });
  request_ = ServerRequest();
}

void HttpServerConnection::refuseUnparsed(int status, const std::string& message) {
  server_.service().refusedUnparsed(status);
  closeAfter_ = true;
  phase_.requestComplete();
  write(ServerResponse::error(status, message), false, true);
}

// --- writing ------------------------------------------------------------------------------

void HttpServerConnection::respond(const ServerResponse& response) {
  if (state_ != State::Working) return;
  const bool keepAlive =
      keepAlive_ && !closeAfter_ && !response.close && !draining_ && !server_.draining();
  closeAfter_ = !keepAlive;
  write(response, keepAlive, parser_.head().method() != "HEAD");
}

void HttpServerConnection::write(const ServerResponse& response, bool keepAlive, bool withBody) {
  std::string head;
  head.reserve(256);
  head.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ");
  head.append(reasonPhrase(response.status));
  head.append("\r\nDate: ").append(httpDate());
  head.append("\r\nServer: ").append(server_.serverName());
  if (!response.contentType.empty()) head.append("\r\nContent-Type: ").append(response.contentType);
  head.append("\r\nContent-Length: ").append(std::to_string(response.body.size()));
  for (const auto& [name, value] : response.headers)
    head.append("\r\n").append(name).append(": ").append(value);
  if (!keepAlive) {
    head.append("\r\nConnection: close");
  } else if (parser_.head().versionMinor() == 0) {
    head.append("\r\nConnection: keep-alive");
  }
  head.append("\r\n\r\n");
  out_.append(head);
  if (withBody) out_.append(response.body);
  state_ = State::Writing;
  phase_.inputFull(true);
  flush();
}

void HttpServerConnection::flush() {
  const net::Io io = out_.flush(stream_);
  if (io == net::Io::Failed || io == net::Io::Closed) {
    abort();
    return;
  }
  if (io == net::Io::Again) {
    phase_.writeBlocked();
    phase_.writeProgress();
    apply();
    return;
  }
  phase_.writeDrained();
  answered();
}

void HttpServerConnection::answered() {
  if (closeAfter_) {
    lingerClose();
    return;
  }
  // The next request: pipelined bytes may already be here.
  in_.erase(0, pos_);
  pos_ = 0;
  parser_.reset();
  tooLarge_ = false;
  headStarted_ = false;
  state_ = State::Head;
  phase_.responseDone();
  if (draining_ && in_.empty()) {
    close();
    return;
  }
  apply();
  process();
  apply();
}

void HttpServerConnection::lingerClose() {
  // Half-close and drop what the client still sends until it closes (or the linger timeout):
  // closing with unread bytes would reset the connection and could destroy the answer on its
  // way (nginx's lingering close).
  stream_.shutdownWrite();
  state_ = State::Lingering;
  in_.clear();
  pos_ = 0;
  phase_.lingering();
  if (peerClosed_) {
    close();
    return;
  }
  apply();
}

void HttpServerConnection::close() {
  assert(state_ != State::Closed);  // every caller checks or follows a state that is open
  state_ = State::Closed;
  timer_.cancel();
  // Closing the descriptor takes it out of the epoll set.
  registration_.forget();
  stream_.close();
  server_.closed(id_);
}

void HttpServerConnection::abort() {
  stream_.abort();
  close();
}

}  // namespace portico::http
