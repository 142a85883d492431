#include "health/ProbeConnection.h"

#include <openssl/ssl.h>
#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "health/ProbeKeepAlive.h"
#include "health/ProbeRequest.h"

namespace portico {
namespace {

// The status line and headers of any sane health endpoint fit; more is not worth reading.
constexpr std::size_t kMaxResponseHead = 16 * 1024;
// A kept connection reads the body to its end; past this, the verdict stands and it closes.
constexpr std::size_t kMaxKeptAnswer = 64 * 1024;
constexpr std::size_t kReadChunk = 4096;

std::string lastError(const char* what, const char* otherwise) {
  return std::string(what) + (errno != 0 ? std::strerror(errno) : otherwise);
}

}  // namespace

ProbeConnection::ProbeConnection(net::EventLoop& loop, ProbeDone& done, HealthJob job)
    : loop_(loop),
      done_(done),
      job_(std::move(job)),
      timer_(*this, 0),
      registration_(loop, *this) {}

ProbeConnection::~ProbeConnection() {
  cancel();
}

void ProbeConnection::start(net::TimerList& timeouts, const net::TlsClientConfig* tls,
                            bool keepAlive) {
  tls_ = tls;
  keepAlive_ = keepAlive && job_.spec.type == ProbeType::Http;
  startedMs_ = loop_.now();
  timeouts.arm(timer_, loop_.now());
  dial();
}

void ProbeConnection::dial() {
  net::FileDescriptor fd;
  std::string error;
  const net::Io io = net::connectTcp(job_.target.host, job_.target.port, fd, error);
  if (io == net::Io::Failed) {
    // Out of descriptors or buffers here: no verdict on the target (the next round tries).
    const int why = errno;
    if (why == EMFILE || why == ENFILE || why == ENOBUFS || why == ENOMEM)
      return finish(ProbeResult::localFailure("connect: " + error));
    return finish(ProbeResult::failure("connect: " + error));
  }
  stream_ = net::Stream(std::move(fd));
  if (io == net::Io::Ok) return connected();
  watch(EPOLLOUT);
}

void ProbeConnection::reuse(HealthJob job, net::TimerList& timeouts) {
  assert(phase_ == Phase::Kept);
  job_ = std::move(job);
  timer_.cancel();  // the idle limit
  startedMs_ = loop_.now();
  timeouts.arm(timer_, loop_.now());
  request_ = ProbeRequest::text(job_.target, job_.spec, job_.preserveHost ? job_.host : "", true);
  reused_ = true;
  sent_ = 0;
  response_.clear();
  parsed_ = 0;
  verdict_.reset();
  phase_ = Phase::Sending;
  send();
}

bool ProbeConnection::parkIn(net::TimerList& idle) {
  assert(phase_ == Phase::Kept);
  idle.arm(timer_, loop_.now());
  // Readable while kept: the target closed it (or says something unasked): it goes.
  return registration_.want(stream_.fd(), EPOLLIN);
}

void ProbeConnection::redial() {
  registration_.forget();
  stream_.abort();
  reused_ = false;
  response_.clear();
  parsed_ = 0;
  sent_ = 0;
  phase_ = Phase::Connecting;
  dial();
}

void ProbeConnection::cancel() {
  if (phase_ == Phase::Done) return;  // reachable: the destructor of a finished probe
  phase_ = Phase::Done;
  timer_.cancel();
  registration_.forget();  // closing the descriptor takes it out of the epoll set
  stream_.abort();
  grpc_.reset();
}

void ProbeConnection::watch(std::uint32_t events) {
  assert(events != 0 && phase_ != Phase::Done);
  // epoll refused the descriptor (out of memory, a limit): this probe fails, not the loop.
  if (!registration_.want(stream_.fd(), events))
    finish(ProbeResult::localFailure(std::string("probe: epoll_ctl: ") + std::strerror(errno)));
}

void ProbeConnection::onTimeout(int) {
  assert(phase_ != Phase::Done);  // cancel() stops the timer
  if (phase_ == Phase::Kept) {
    cancel();
    return done_.idleClosed(*this);
  }
  finish(ProbeRequest::timedOut(job_.spec));
}

void ProbeConnection::onEvent(std::uint32_t events) {
  switch (phase_) {
    case Phase::Connecting: {
      std::string error;
      if (net::finishConnect(stream_.fd(), error) != net::Io::Ok)
        return finish(ProbeResult::failure("connect: " + error));
      return connected();
    }
    case Phase::Handshaking:
      return handshake();
    case Phase::Sending:
      return send();
    case Phase::Receiving:
      return receive();
    case Phase::Grpc:
      return grpc();
    case Phase::Kept:
      cancel();
      return done_.idleClosed(*this);
    case Phase::Done:
      (void)events;  // closed earlier in this batch
      return;
  }
}

void ProbeConnection::connected() {
  // A tcp check asks only whether the port takes connections, https targets included.
  if (job_.spec.type == ProbeType::Tcp) return finish(ProbeResult::success());
  if (job_.target.tls) return startTls(job_.spec.type == ProbeType::Grpc);
  secured();
}

void ProbeConnection::startTls(bool h2) {
  if (!tls_) return finish(ProbeResult::failure("tls: no TLS client configuration"));
  auto ssl = tls_->newSession(job_.target.host, nullptr);
  if (!ssl) return finish(ProbeResult::failure("tls: " + net::sslErrors()));
  // gRPC is HTTP/2 only: offer h2 alone, so a target without it says so in the handshake.
  static const unsigned char kH2[] = {2, 'h', '2'};
  if (h2 && SSL_set_alpn_protos(ssl.get(), kH2, sizeof kH2) != 0)
    return finish(ProbeResult::failure("tls: cannot offer h2"));
  stream_.startTls(std::move(ssl));
  phase_ = Phase::Handshaking;
  handshake();
}

void ProbeConnection::handshake() {
  std::string error;
  switch (stream_.handshake(error)) {
    case net::Io::Ok:
      return secured();
    case net::Io::Again:
      return watch(stream_.wantsWrite() ? EPOLLOUT : EPOLLIN);
    default:
      // "certificate verification failed: hostname mismatch", "TLS handshake failed: ..."
      return finish(ProbeResult::failure(error.empty() ? "TLS handshake failed" : error));
  }
}

void ProbeConnection::secured() {
  if (job_.spec.type == ProbeType::Grpc) {
    if (stream_.tls() && net::negotiatedProtocol(stream_.ssl()) != "h2")
      return finish(ProbeResult::failure("grpc: the target did not agree to h2 through ALPN"));
    grpc_ = std::make_unique<GrpcProbeSession>(
        ProbeRequest::host(job_.target, job_.preserveHost ? job_.host : ""), job_.target.tls,
        job_.spec);
    request_.clear();
    sent_ = 0;
    phase_ = Phase::Grpc;
    return grpc();
  }
  request_ =
      ProbeRequest::text(job_.target, job_.spec, job_.preserveHost ? job_.host : "", keepAlive_);
  phase_ = Phase::Sending;
  send();
}

void ProbeConnection::send() {
  while (sent_ < request_.size()) {
    iovec iov{const_cast<char*>(request_.data()) + sent_, request_.size() - sent_};
    std::size_t n = 0;
    errno = 0;
    const net::Io io = stream_.write(&iov, 1, n);
    if (io == net::Io::Again)
      return watch(stream_.tls() && !stream_.wantsWrite() ? EPOLLIN : EPOLLOUT);
    if (io != net::Io::Ok) {
      if (reused_) return redial();
      return finish(ProbeResult::failure(lastError("http: ", "cannot send the request")));
    }
    sent_ += n;
  }
  phase_ = Phase::Receiving;
  parser_ = std::make_unique<http::HttpParser>(http::HttpParser::Kind::Response);
  watch(EPOLLIN);
  // TLS may already hold the answer's first bytes.
  if (phase_ == Phase::Receiving && stream_.pending()) receive();
}

void ProbeConnection::receive() {
  for (;;) {
    const std::size_t begin = response_.size();
    if (begin >= (verdict_ ? kMaxKeptAnswer : kMaxResponseHead))
      return finish(verdict_ ? *verdict_ : ProbeResult::failure("http: response head over 16 KiB"));
    response_.resize(begin + kReadChunk);
    std::size_t n = 0;
    errno = 0;
    const net::Io io = stream_.read(response_.data() + begin, kReadChunk, n);
    response_.resize(begin + (io == net::Io::Ok ? n : 0));
    if (io == net::Io::Again) return watch(stream_.wantsWrite() ? EPOLLOUT : EPOLLIN);
    // A kept connection the target closed as this probe began: nothing was answered, so the
    // probe goes again on a new one (as the proxy retries a stale pooled connection).
    if (io != net::Io::Ok && reused_ && response_.empty()) return redial();
    // After the head the status has spoken: a body cut short only costs the connection.
    if (io == net::Io::Failed)
      return finish(verdict_ ? *verdict_
                             : ProbeResult::failure(lastError("http: ", "connection failed")));
    if (io == net::Io::Closed) {
      if (verdict_) return finish(*verdict_);
      const auto status = parser_->finish(nullptr);
      if (status == http::HttpParser::Status::Error)
        return finish(ProbeResult::failure("http: invalid response: " + parser_->errorMessage()));
      if (!parser_->headComplete())
        return finish(ProbeResult::failure("http: connection closed before a response"));
      return finish(ProbeRequest::verdict(parser_->head().status()));
    }
    if (parse()) return;
  }
}

bool ProbeConnection::parse() {
  while (parsed_ < response_.size()) {
    std::size_t consumed = 0;
    const auto status =
        parser_->feed(response_.data(), parsed_, response_.size(), nullptr, consumed);
    parsed_ += consumed;
    switch (status) {
      case http::HttpParser::Status::Error:
        finish(verdict_
                   ? *verdict_
                   : ProbeResult::failure("http: invalid response: " + parser_->errorMessage()));
        return true;
      case http::HttpParser::Status::HeadComplete:
        verdict_ = ProbeRequest::verdict(parser_->head().status());
        // A connection that will not be kept: the status decides, the body is never read.
        if (!keepAlive_ || !parser_->keepAlive()) {
          finish(*verdict_);
          return true;
        }
        break;
      case http::HttpParser::Status::MessageComplete: {
        if (!verdict_) verdict_ = ProbeRequest::verdict(parser_->head().status());
        const ProbeAnswer answer{parser_->keepAlive(), true, parsed_ < response_.size()};
        finish(*verdict_, ProbeKeepAlive::reusable(answer));
        return true;
      }
      case http::HttpParser::Status::NeedMore:
        return false;
    }
  }
  return false;
}

void ProbeConnection::grpc() {
  for (;;) {
    if (!grpcFlush()) return;  // finished, or waits until it can write
    if (auto result = grpc_->result()) return finish(*result);
    char buffer[kReadChunk];
    std::size_t n = 0;
    errno = 0;
    const net::Io io = stream_.read(buffer, sizeof buffer, n);
    if (io == net::Io::Again) return watch(stream_.wantsWrite() ? EPOLLOUT : EPOLLIN);
    if (io == net::Io::Closed) return finish(grpc_->closed());
    if (io == net::Io::Failed)
      return finish(ProbeResult::failure(lastError("grpc: ", "connection failed")));
    if (!grpc_->input(buffer, n)) return finish(*grpc_->result());
  }
}

bool ProbeConnection::grpcFlush() {
  if (sent_ == request_.size()) {
    request_.clear();
    sent_ = 0;
  }
  if (!grpc_->output(request_)) {
    finish(*grpc_->result());
    return false;
  }
  while (sent_ < request_.size()) {
    iovec iov{request_.data() + sent_, request_.size() - sent_};
    std::size_t n = 0;
    errno = 0;
    const net::Io io = stream_.write(&iov, 1, n);
    if (io == net::Io::Again) {
      watch(stream_.tls() && !stream_.wantsWrite() ? EPOLLIN : EPOLLOUT);
      return false;
    }
    if (io != net::Io::Ok) {
      finish(ProbeResult::failure(lastError("grpc: ", "cannot send the call")));
      return false;
    }
    sent_ += n;
  }
  return true;
}

void ProbeConnection::finish(ProbeResult result, bool keep) {
  assert(phase_ != Phase::Done && phase_ != Phase::Kept);  // one result per probe
  if (keep) {
    timer_.cancel();
    parser_.reset();
    // Thousands of connections wait between probes: they hold no buffers meanwhile.
    std::string().swap(response_);
    std::string().swap(request_);
    phase_ = Phase::Kept;
  } else {
    cancel();
  }
  done_.finished(*this, std::move(result));
}

}  // namespace portico
