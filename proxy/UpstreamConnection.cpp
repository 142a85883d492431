#include "UpstreamConnection.h"

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>
#include <sys/socket.h>

#include <cerrno>

namespace portico {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

UpstreamConnection::UpstreamConnection(const TargetUrl& url, const UpstreamTimeouts& timeouts)
    : HTTPClientSession(url.host, url.port) {
  setTimeout(span(timeouts.connect), span(timeouts.read), span(timeouts.read));
  setKeepAlive(true);
  // The pool decides when an idle connection is too old; POCO must not silently reconnect
  // underneath it (a reconnect would hide whether the request may be retried).
  setKeepAliveTimeout(Poco::Timespan(3600, 0));
}

void UpstreamConnection::open() {
  reconnect();
}

bool UpstreamConnection::looksStale() {
  // Nothing may arrive on an idle HTTP/1.1 connection: readable means closed (EOF/RST) or
  // garbage, either way unusable. A non-blocking peek is one syscall; Socket::poll() in POCO
  // 1.11 creates and closes an epoll instance for every call (four syscalls per checkout).
  if (!connected()) return true;
  const poco_socket_t fd = socket().impl()->sockfd();
  if (fd == POCO_INVALID_SOCKET) return true;
  char byte;
  for (;;) {
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) return true;  // 0: the backend closed it; > 0: unsolicited bytes
    if (errno == EINTR) continue;
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

}  // namespace portico
