#include "health/ProbeConnection.h"

#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "health/ProbeRequest.h"

namespace portico {
namespace {

// The status line and headers of any sane health endpoint fit; more is not worth reading.
constexpr std::size_t kMaxResponseHead = 16 * 1024;
constexpr std::size_t kReadChunk = 4096;

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

void ProbeConnection::start(net::TimerList& timeouts, const net::TlsClientConfig* tls) {
  tls_ = tls;
  startedMs_ = loop_.now();
  timeouts.arm(timer_, loop_.now());
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

void ProbeConnection::cancel() {
  if (phase_ == Phase::Done) return;  // reachable: the destructor of a finished probe
  phase_ = Phase::Done;
  timer_.cancel();
  registration_.forget();  // closing the descriptor takes it out of the epoll set
  stream_.abort();
}

void ProbeConnection::watch(std::uint32_t events) {
  assert(events != 0 && phase_ != Phase::Done);
  // epoll refused the descriptor (out of memory, a limit): this probe fails, not the loop.
  if (!registration_.want(stream_.fd(), events))
    finish(ProbeResult::localFailure(std::string("probe: epoll_ctl: ") + std::strerror(errno)));
}

void ProbeConnection::onTimeout(int) {
  assert(phase_ != Phase::Done);  // cancel() stops the timer
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
    case Phase::Done:
      (void)events;  // closed earlier in this batch
      return;
  }
}

void ProbeConnection::connected() {
  // A tcp check asks only whether the port takes connections, https targets included.
  if (job_.spec.type != ProbeType::Http) return finish(ProbeResult::success());
  request_ = ProbeRequest::text(job_.target, job_.spec, job_.preserveHost ? job_.host : "");
  if (!job_.target.tls) {
    phase_ = Phase::Sending;
    return send();
  }
  if (!tls_) return finish(ProbeResult::failure("tls: no TLS client configuration"));
  auto ssl = tls_->newSession(job_.target.host, nullptr);
  if (!ssl) return finish(ProbeResult::failure("tls: " + net::sslErrors()));
  stream_.startTls(std::move(ssl));
  phase_ = Phase::Handshaking;
  handshake();
}

void ProbeConnection::handshake() {
  std::string error;
  switch (stream_.handshake(error)) {
    case net::Io::Ok:
      phase_ = Phase::Sending;
      return send();
    case net::Io::Again:
      return watch(stream_.wantsWrite() ? EPOLLOUT : EPOLLIN);
    default:
      // "certificate verification failed: hostname mismatch", "TLS handshake failed: ..."
      return finish(ProbeResult::failure(error.empty() ? "TLS handshake failed" : error));
  }
}

void ProbeConnection::send() {
  while (sent_ < request_.size()) {
    iovec iov{const_cast<char*>(request_.data()) + sent_, request_.size() - sent_};
    std::size_t n = 0;
    errno = 0;
    const net::Io io = stream_.write(&iov, 1, n);
    if (io == net::Io::Again)
      return watch(stream_.tls() && !stream_.wantsWrite() ? EPOLLIN : EPOLLOUT);
    if (io != net::Io::Ok)
      return finish(ProbeResult::failure(
          "http: " + std::string(errno != 0 ? std::strerror(errno) : "cannot send the request")));
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
    if (begin >= kMaxResponseHead)
      return finish(ProbeResult::failure("http: response head over 16 KiB"));
    response_.resize(begin + kReadChunk);
    std::size_t n = 0;
    errno = 0;
    const net::Io io = stream_.read(response_.data() + begin, kReadChunk, n);
    response_.resize(begin + (io == net::Io::Ok ? n : 0));
    if (io == net::Io::Again) {
      return watch(stream_.wantsWrite() ? EPOLLOUT : EPOLLIN);
    }
    if (io == net::Io::Failed) {
      return finish(ProbeResult::failure(
          "http: " + std::string(errno != 0 ? std::strerror(errno) : "connection failed")));
    }
    http::HttpParser::Status status;
    if (io == net::Io::Closed) {
      status = parser_->finish(nullptr);
      if (status != http::HttpParser::Status::Error && !parser_->headComplete())
        return finish(ProbeResult::failure("http: connection closed before a response"));
    } else {
      std::size_t consumed = 0;
      status = parser_->feed(response_.data(), begin, response_.size(), nullptr, consumed);
    }
    if (status == http::HttpParser::Status::Error)
      return finish(ProbeResult::failure("http: invalid response: " + parser_->errorMessage()));
    // The status decides; the body is never read.
    if (parser_->headComplete()) return finish(ProbeRequest::verdict(parser_->head().status()));
  }
}

void ProbeConnection::finish(ProbeResult result) {
  assert(phase_ != Phase::Done);  // one result per probe
  cancel();
  done_.finished(*this, std::move(result));
}

}  // namespace portico
