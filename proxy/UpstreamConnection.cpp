#include "UpstreamConnection.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
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
    : url_(url), timeouts_(timeouts) {}

void UpstreamConnection::open() {
  socket_.connect(Poco::Net::SocketAddress(url_.host, url_.port), span(timeouts_.connect));
  socket_.setNoDelay(true);
  socket_.setReceiveTimeout(span(timeouts_.read));
  socket_.setSendTimeout(span(timeouts_.read));
}

bool UpstreamConnection::sendAll(std::string_view bytes) {
  try {
    while (!bytes.empty()) {
      const int n = socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) {
        error_ = "connection closed by the target";
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  } catch (const Poco::TimeoutException&) {
    timedOut_ = true;
    error_ = "timed out";
  } catch (const Poco::Exception& e) {
    error_ = e.displayText();
  }
  return false;
}

int UpstreamConnection::receive(char* buffer, std::size_t capacity) {
  try {
    return socket_.receiveBytes(buffer, static_cast<int>(capacity));
  } catch (const Poco::TimeoutException&) {
    timedOut_ = true;
    error_ = "timed out";
  } catch (const Poco::Exception& e) {
    error_ = e.displayText();
  }
  return -1;
}

bool UpstreamConnection::looksStale() {
  // Nothing may arrive on an idle HTTP/1.1 connection: readable means closed (EOF/RST) or
  // garbage, either way unusable. A non-blocking peek is one syscall.
  const poco_socket_t fd = socket_.impl()->sockfd();
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
