#pragma once

#include <sys/uio.h>

#include <cstddef>

#include "Socket.h"

namespace portico::net {

/// One connected, non-blocking socket as the HTTP layers see it: read, write (gathered), half
/// close, reset. Plain TCP today; a TLS session slots in here, below every HTTP state machine,
/// so that a connection carries TLS without a second forwarding path.
class Stream {
 public:
  Stream() = default;
  explicit Stream(FileDescriptor fd) : fd_(std::move(fd)) {}
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  int fd() const { return fd_.get(); }
  bool open() const { return fd_.valid(); }

  Io read(char* buffer, std::size_t capacity, std::size_t& n) {
    return readSome(fd_.get(), buffer, capacity, n);
  }
  Io write(const iovec* iov, int count, std::size_t& n) {
    return writeSome(fd_.get(), iov, count, n);
  }
  /// Sends FIN: the peer reads the end of the stream, the other direction stays open.
  void shutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }
  /// Closes now with RST: the peer sees an error, never the end of a complete message.
  void abort() {
    if (!fd_.valid()) return;
    setResetOnClose(fd_.get());
    fd_.reset();
  }
  void close() { fd_.reset(); }

 private:
  FileDescriptor fd_;
};

}  // namespace portico::net
