#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace portico::net {

/// An owned file descriptor, closed on destruction.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.release()) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_{-1};
};

/// A bound, listening TCP socket. Reuse-address is on (restart past TIME_WAIT); reuse-port only
/// when asked (see listenGroup). Throws std::system_error naming the address.
FileDescriptor listenTcp(const std::string& host, std::uint16_t port, int backlog,
                         bool reusePort = false);

/// `count` listening sockets sharing one port through SO_REUSEPORT, so the kernel spreads new
/// connections evenly over the event loops that each own one. A second instance must still
/// fail loudly: a socket without reuse-port is bound to the port first (and closed), which fails
/// while another group holds it. Port 0 picks one port for all.
std::vector<FileDescriptor> listenGroup(const std::string& host, std::uint16_t port, int backlog,
                                        std::size_t count);
/// The port a bound socket got (for port 0).
std::uint16_t localPort(int fd);

/// What a non-blocking socket operation did.
enum class Io { Ok, Again, Closed, Failed };

/// One address a stream socket can connect to.
/// One TCP address (IPv4 or IPv6): 28 bytes where a sockaddr_storage takes 128; every target
/// of a 25,000-route table holds one (issue 22: at most 1 KB per target).
struct SocketAddress {
  union {
    sockaddr_in v4;
    sockaddr_in6 v6;
  } address{};
  socklen_t length{0};
  int family{0};

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address); }
};

/// The addresses of host:port, IPv4 first (as POCO orders them: "localhost" must reach a backend
/// that listens on 127.0.0.1 only). Blocks for a DNS lookup unless `host` is numeric: call it
/// off the event loops. Empty with `error` set when the name does not resolve.
std::vector<SocketAddress> resolveTcp(const std::string& host, std::uint16_t port,
                                      std::string& error);

/// Starts a non-blocking connect to the first of `addresses` that takes it. Returns Ok when
/// already connected, Again while in progress (wait for EPOLLOUT), Failed with `error` set
/// otherwise. Never blocks.
Io connectTcp(const std::vector<SocketAddress>& addresses, FileDescriptor& out, std::string& error);
/// The same after resolving host:port now (blocking for a name; see resolveTcp).
Io connectTcp(const std::string& host, std::uint16_t port, FileDescriptor& out, std::string& error);
/// After EPOLLOUT on a connecting socket: Ok, or Failed with `error` ("Connection refused").
Io finishConnect(int fd, std::string& error);

/// One recv(); `n` gets the bytes read. Closed at EOF.
Io readSome(int fd, char* buffer, std::size_t capacity, std::size_t& n);
/// One writev() (MSG_NOSIGNAL); `n` gets the bytes written.
Io writeSome(int fd, const iovec* iov, int count, std::size_t& n);

/// Makes close() reset the connection (RST) instead of ending it cleanly: the peer must see an
/// error, not the end of a complete message.
void setResetOnClose(int fd);
void setNoDelay(int fd);

/// The numeric address of the peer ("127.0.0.1", "::1"; IPv4-mapped addresses unmapped).
std::string peerAddress(int fd);
/// The same for an address accept() returned.
std::string addressText(const sockaddr_storage& address);

}  // namespace portico::net
