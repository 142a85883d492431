#include "loop/TlsHandshake.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/Log.h"
#include "loop/ClientConnection.h"
#include "loop/Http2Connection.h"
#include "loop/ProxyLoop.h"

namespace portico {

TlsHandshake::TlsHandshake(ProxyLoop& loop, net::FileDescriptor fd, const sockaddr_storage& peer,
                           net::SslPtr tls)
    : loop_(loop),
      stream_(std::move(fd)),
      peer_(net::addressText(peer)),
      peerTrusted_(loop.context().trusted.contains(reinterpret_cast<const sockaddr&>(peer))),
      count_(loop.context().metrics),
      timer_(*this, 0),
      registration_(loop.events(), *this) {
  stream_.startTls(std::move(tls));
}

TlsHandshake::~TlsHandshake() {
  timer_.cancel();
}

void TlsHandshake::start() {
  loop_.headerTimeouts().arm(timer_, loop_.events().now());
  updateInterest();
}

void TlsHandshake::onEvent(std::uint32_t) {
  if (closed_) return;  // closed earlier in this batch
  advance();
}

void TlsHandshake::onTimeout(int) {
  close();  // never sent a request byte
}

void TlsHandshake::advance() {
  std::string error;
  const net::Io io = stream_.handshake(error);
  if (io == net::Io::Again) {
    updateInterest();
    return;
  }
  if (io == net::Io::Failed) {
    stream_.abort();
    close();
    return;
  }
  handOver();
}

void TlsHandshake::handOver() {
  // The socket moves to its new owner, which registers it anew; this object goes away without
  // closing it.
  registration_.leave();
  closed_ = true;
  if (net::negotiatedProtocol(stream_.ssl()) == "h2") {
    timer_.cancel();
    auto h2 = std::make_unique<Http2Connection>(loop_, std::move(stream_), peer_, peerTrusted_,
                                                std::move(count_));
    Http2Connection& c = *h2;
    loop_.adopt(std::move(h2));
    loop_.closed(*this);
    c.start();
    return;
  }
  auto h1 = std::make_unique<ClientConnection>(loop_, std::move(stream_), std::move(peer_),
                                               peerTrusted_, std::move(count_), timer_);
  ClientConnection& c = *h1;
  loop_.adopt(std::move(h1));
  loop_.closed(*this);
  c.start();
}

void TlsHandshake::updateInterest() {
  const std::uint32_t events = stream_.wantsWrite() ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  if (!registration_.want(stream_.fd(), events)) {
    logLine(std::string("proxy: cannot watch a client connection: ") + std::strerror(errno));
    stream_.abort();
    close();
  }
}

void TlsHandshake::close() {
  if (closed_) return;  // the timeout and a failure can both end it within one batch
  closed_ = true;
  timer_.cancel();
  // Closing the descriptor takes it out of the epoll set (nothing else holds it).
  registration_.forget();
  stream_.close();
  loop_.closed(*this);
}

}  // namespace portico
