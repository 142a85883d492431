#include "net/Socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace portico::net {

void FileDescriptor::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

/// Resolves host:port for a stream socket (numeric addresses without a lookup).
addrinfo* resolve(const std::string& host, std::uint16_t port, bool passive, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const std::string name = (!host.empty() && host.front() == '[' && host.back() == ']')
                               ? host.substr(1, host.size() - 2)
                               : host;
  const int rc =
      ::getaddrinfo(name.empty() ? nullptr : name.c_str(), service.c_str(), &hints, &result);
  if (rc != 0) {
    error = std::string("cannot resolve '") + host + "': " + gai_strerror(rc);
    return nullptr;
  }
  return result;
}

}  // namespace

FileDescriptor listenTcp(const std::string& host, std::uint16_t port, int backlog, bool reusePort) {
  std::string error;
  addrinfo* list = resolve(host == "0.0.0.0" ? std::string("0.0.0.0") : host, port, true, error);
  if (!list) throw std::system_error(EINVAL, std::generic_category(), error);
  int lastErr = 0;
  FileDescriptor fd;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    FileDescriptor s(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.valid()) {
      lastErr = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reusePort) ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // Accepted connections inherit it: no setsockopt per client.
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::bind(s.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(s.get(), backlog) != 0) {
      lastErr = errno;
      continue;
    }
    fd = std::move(s);
    break;
  }
  ::freeaddrinfo(list);
  if (!fd.valid())
    throw std::system_error(lastErr, std::generic_category(),
                            "cannot listen on " + host + ":" + std::to_string(port));
  return fd;
}

std::vector<FileDescriptor> listenGroup(const std::string& host, std::uint16_t port, int backlog,
                                        std::size_t count) {
  if (port != 0) {
    // Fails with "address in use" while anything, another group included, has the port.
    listenTcp(host, port, 1, false);
  }
  std::vector<FileDescriptor> group;
  for (std::size_t i = 0; i < count; ++i) {
    group.push_back(listenTcp(host, port, backlog, true));
    if (port == 0) port = localPort(group.back().get());
  }
  return group;
}

std::uint16_t localPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

std::vector<SocketAddress> resolveTcp(const std::string& host, std::uint16_t port,
                                      std::string& error) {
  std::vector<SocketAddress> out;
  addrinfo* list = resolve(host, port, false, error);
  if (!list) return out;
  for (int pass = 0; pass < 2; ++pass) {
    for (addrinfo* ai = list; ai; ai = ai->ai_next) {
      if ((ai->ai_family == AF_INET) != (pass == 0)) continue;
      SocketAddress a;
      if (ai->ai_addrlen > sizeof a.address) continue;  // neither IPv4 nor IPv6
      std::memcpy(&a.address, ai->ai_addr, ai->ai_addrlen);
      a.length = ai->ai_addrlen;
      a.family = ai->ai_family;
      out.push_back(a);
    }
  }
  ::freeaddrinfo(list);
  return out;
}

Io connectTcp(const std::vector<SocketAddress>& addresses, FileDescriptor& out,
              std::string& error) {
  if (addresses.empty() && error.empty()) error = "no address";
  for (const SocketAddress& a : addresses) {
    FileDescriptor s(::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.valid()) {
      error = std::strerror(errno);
      continue;
    }
    setNoDelay(s.get());
    Io result = Io::Ok;
    if (::connect(s.get(), a.get(), a.length) != 0) {
      if (errno != EINPROGRESS) {
        error = std::strerror(errno);
        continue;
      }
      result = Io::Again;
    }
    out = std::move(s);
    return result;
  }
  return Io::Failed;
}

Io connectTcp(const std::string& host, std::uint16_t port, FileDescriptor& out,
              std::string& error) {
  const std::vector<SocketAddress> addresses = resolveTcp(host, port, error);
  if (addresses.empty()) return Io::Failed;
  return connectTcp(addresses, out, error);
}

Io finishConnect(int fd, std::string& error) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return Io::Ok;
  error = std::strerror(err);
  return Io::Failed;
}

Io readSome(int fd, char* buffer, std::size_t capacity, std::size_t& n) {
  n = 0;
  for (;;) {
    const ssize_t r = ::recv(fd, buffer, capacity, 0);
    if (r > 0) {
      n = static_cast<std::size_t>(r);
      return Io::Ok;
    }
    if (r == 0) return Io::Closed;
    if (errno == EINTR) continue;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::Again : Io::Failed;
  }
}

Io writeSome(int fd, const iovec* iov, int count, std::size_t& n) {
  n = 0;
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<std::size_t>(count);
  for (;;) {
    const ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w >= 0) {
      n = static_cast<std::size_t>(w);
      return Io::Ok;
    }
    if (errno == EINTR) continue;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::Again : Io::Failed;
  }
}

void setResetOnClose(int fd) {
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

void setNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::string peerAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "-";
  return addressText(addr);
}

std::string addressText(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
      ::inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
    }
  } else {
    return "-";
  }
  return text;
}

}  // namespace portico::net
