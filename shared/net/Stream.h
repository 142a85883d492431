#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>

#include "net/Socket.h"
#include "net/Tls.h"

namespace portico::net {

/// One connected, non-blocking socket as the HTTP layers see it: read, write (gathered), half
/// close, reset — in the clear, or through TLS once startTls() was called. TLS lives here, below
/// every HTTP state machine, so an HTTP/1.1 connection, an HTTP/2 session or a target connection
/// carries it without a second code path.
class Stream {
 public:
  Stream() = default;
  explicit Stream(FileDescriptor fd) : fd_(std::move(fd)) {}
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  int fd() const { return fd_.get(); }
  bool open() const { return fd_.valid(); }

  /// From now on bytes go through `ssl` (handshake() first).
  void startTls(SslPtr ssl);
  bool tls() const { return ssl_ != nullptr; }
  ssl_st* ssl() const { return ssl_.get(); }
  /// Advances the TLS handshake: Ok when it is done, Again while it waits for the peer
  /// (wantsWrite() says for what), Failed with `error` saying why.
  Io handshake(std::string& error);
  /// The last Again was TLS waiting to write (a handshake flight, a key update): wait for
  /// writability, not readability.
  bool wantsWrite() const { return wantWrite_; }
  /// Decrypted bytes wait inside TLS: the next read returns them without the socket being
  /// readable, so a reader that paused must read again when it resumes.
  bool pending() const;

  Io read(char* buffer, std::size_t capacity, std::size_t& n);
  Io write(const iovec* iov, int count, std::size_t& n);
  /// The end of what this side sends: FIN (after TLS's close_notify); the other direction stays
  /// open.
  void shutdownWrite();
  /// Closes now with RST: the peer sees an error, never the end of a complete message.
  void abort() {
    if (!fd_.valid()) return;
    setResetOnClose(fd_.get());
    ssl_.reset();
    fd_.reset();
  }
  void close() {
    ssl_.reset();
    fd_.reset();
  }

 private:
  Io tlsRead(char* buffer, std::size_t capacity, std::size_t& n);
  Io tlsWrite(const iovec* iov, int count, std::size_t& n);

  FileDescriptor fd_;
  SslPtr ssl_;
  bool wantWrite_{false};
};

}  // namespace portico::net
