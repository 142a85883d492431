#include "module/UpstreamConnection.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace portico {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

UpstreamConnection::UpstreamConnection(const TargetUrl& url, const UpstreamTimeouts& timeouts,
                                       const net::TlsClientConfig* tls)
    : url_(url), timeouts_(timeouts), tlsConfig_(tls) {}

void UpstreamConnection::readTimeout(std::chrono::milliseconds timeout) {
  if (timeout == timeouts_.read) return;
  timeouts_.read = timeout;
  socket_.setReceiveTimeout(span(timeout));
  socket_.setSendTimeout(span(timeout));
}

void UpstreamConnection::open() {
  socket_.connect(Poco::Net::SocketAddress(url_.host, url_.port), span(timeouts_.connect));
  socket_.setNoDelay(true);
  socket_.setReceiveTimeout(span(timeouts_.read));
  socket_.setSendTimeout(span(timeouts_.read));
  if (!url_.tls) return;
  // OpenSSL over the blocking socket: its send and receive timeouts bound the handshake too.
  const std::string where = "TLS handshake with " + url_.authority() + ": ";
  if (!tlsConfig_) throw std::runtime_error(where + "no TLS client context");
  ssl_ = tlsConfig_->newSession(url_.host, nullptr);
  if (!ssl_) throw std::runtime_error(where + net::sslErrors());
  SSL_set_fd(ssl_.get(), static_cast<int>(socket_.impl()->sockfd()));
  ERR_clear_error();
  if (SSL_connect(ssl_.get()) != 1) {
    std::string error =
        errno == EAGAIN ? std::string("timed out") : net::handshakeError(ssl_.get());
    static const std::string kGeneric = "TLS handshake failed: ";
    if (error.compare(0, kGeneric.size(), kGeneric) == 0) error.erase(0, kGeneric.size());
    ssl_.reset();
    throw std::runtime_error(where + error);
  }
}

int UpstreamConnection::sendSome(const char* data, std::size_t size) {
  if (!ssl_) return socket_.sendBytes(data, static_cast<int>(size));
  ERR_clear_error();
  const int n = SSL_write(ssl_.get(), data, static_cast<int>(size));
  if (n > 0) return n;
  if (errno == EAGAIN) throw Poco::TimeoutException();
  throw std::runtime_error("TLS write: " + net::sslErrors());
}

int UpstreamConnection::receiveSome(char* buffer, std::size_t capacity) {
  if (!ssl_) return socket_.receiveBytes(buffer, static_cast<int>(capacity));
  ERR_clear_error();
  const int n = SSL_read(ssl_.get(), buffer, static_cast<int>(capacity));
  if (n > 0) return n;
  const int err = SSL_get_error(ssl_.get(), n);
  if (err == SSL_ERROR_ZERO_RETURN) return 0;
  if (err == SSL_ERROR_SYSCALL && n == 0) return 0;  // closed without close_notify
  if (errno == EAGAIN) throw Poco::TimeoutException();
  throw std::runtime_error("TLS read: " + net::sslErrors());
}

bool UpstreamConnection::sendAll(std::string_view bytes) {
  try {
    while (!bytes.empty()) {
      const int n = sendSome(bytes.data(), bytes.size());
      if (n <= 0) {
        error_ = "connection closed by the target";
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  } catch (...) {
    noteFailure();
  }
  return false;
}

void UpstreamConnection::noteFailure() {
  try {
    throw;  // the exception being handled; other kinds than these go on to the caller
  } catch (const Poco::TimeoutException&) {
    timedOut_ = true;
    error_ = "timed out";
  } catch (const Poco::Exception& e) {
    error_ = e.displayText();
  } catch (const std::exception& e) {
    error_ = e.what();
  }
}

int UpstreamConnection::receive(char* buffer, std::size_t capacity) {
  try {
    return receiveSome(buffer, capacity);
  } catch (...) {
    noteFailure();
  }
  return -1;
}

bool UpstreamConnection::looksStale() {
  // Nothing may arrive on an idle HTTP/1.1 connection: readable means closed (EOF/RST) or
  // garbage, either way unusable. A non-blocking peek is one syscall. (Through TLS a session
  // ticket also reads as stale: the connection is replaced, which costs a handshake, not a
  // request.)
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
