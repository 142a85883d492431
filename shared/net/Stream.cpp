#include "net/Stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace portico::net {

void Stream::startTls(SslPtr ssl) {
  ssl_ = std::move(ssl);
  SSL_set_fd(ssl_.get(), fd_.get());
}

Io Stream::handshake(std::string& error) {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_.get());
  wantWrite_ = false;
  if (rc == 1) return Io::Ok;
  switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      return Io::Again;
    case SSL_ERROR_WANT_WRITE:
      wantWrite_ = true;
      return Io::Again;
    default:
      error = handshakeError(ssl_.get());
      return Io::Failed;
  }
}

bool Stream::pending() const {
  return ssl_ && SSL_pending(ssl_.get()) > 0;
}

Io Stream::read(char* buffer, std::size_t capacity, std::size_t& n) {
  if (ssl_) return tlsRead(buffer, capacity, n);
  return readSome(fd_.get(), buffer, capacity, n);
}

Io Stream::write(const iovec* iov, int count, std::size_t& n) {
  if (ssl_) return tlsWrite(iov, count, n);
  return writeSome(fd_.get(), iov, count, n);
}

Io Stream::tlsRead(char* buffer, std::size_t capacity, std::size_t& n) {
  n = 0;
  wantWrite_ = false;
  // Fill the buffer while records are at hand: each SSL_read returns at most one record.
  while (n < capacity) {
    ERR_clear_error();
    const int rc = SSL_read(ssl_.get(), buffer + n,
                            static_cast<int>(std::min<std::size_t>(capacity - n, 1 << 30)));
    if (rc > 0) {
      n += static_cast<std::size_t>(rc);
      continue;
    }
    const int err = SSL_get_error(ssl_.get(), rc);
    if (n > 0 && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)) return Io::Ok;
    switch (err) {
      case SSL_ERROR_WANT_READ:
        return Io::Again;
      case SSL_ERROR_WANT_WRITE:
        wantWrite_ = true;
        return Io::Again;
      case SSL_ERROR_ZERO_RETURN:  // close_notify
        return n > 0 ? Io::Ok : Io::Closed;
      case SSL_ERROR_SYSCALL:
        // The socket ended without close_notify: as plain TCP would.
        if (n > 0) return Io::Ok;
        return (ERR_peek_error() == 0 && errno == 0) ? Io::Closed : Io::Failed;
      default:
        ERR_clear_error();
        return n > 0 ? Io::Ok : Io::Failed;
    }
  }
  return Io::Ok;
}

namespace {

constexpr std::size_t kRecord = 16 * 1024;

/// The next TLS record's bytes from position (`i`, `offset`) of `iov`: the piece itself when it
/// fills a record (or is the last), else small pieces coalesced into `scratch` (a head, a chunk
/// size, the body) so that one SSL_write makes one record.
std::string_view nextRecord(const iovec* iov, int count, int i, std::size_t offset, char* scratch) {
  if (iov[i].iov_len - offset >= kRecord || i + 1 == count)
    return {static_cast<const char*>(iov[i].iov_base) + offset,
            std::min(iov[i].iov_len - offset, kRecord)};
  std::size_t size = 0;
  for (int j = i; j < count && size < kRecord; ++j, offset = 0) {
    const std::size_t take = std::min(iov[j].iov_len - offset, kRecord - size);
    std::memcpy(scratch + size, static_cast<const char*>(iov[j].iov_base) + offset, take);
    size += take;
    if (offset + take < iov[j].iov_len) break;  // the record is full inside this piece
  }
  return {scratch, size};
}

/// Moves (`i`, `offset`) past `done` written bytes.
void advance(const iovec* iov, int count, std::size_t done, int& i, std::size_t& offset) {
  while (done > 0 && i < count) {
    const std::size_t left = iov[i].iov_len - offset;
    if (done < left) {
      offset += done;
      return;
    }
    done -= left;
    ++i;
    offset = 0;
  }
}

}  // namespace

Io Stream::tlsWrite(const iovec* iov, int count, std::size_t& n) {
  n = 0;
  wantWrite_ = false;
  thread_local char scratch[kRecord];
  int i = 0;
  std::size_t offset = 0;  // into iov[i]
  while (i < count) {
    const std::string_view record = nextRecord(iov, count, i, offset, scratch);
    if (record.empty()) {
      ++i;
      offset = 0;
      continue;
    }
    ERR_clear_error();
    const int rc = SSL_write(ssl_.get(), record.data(), static_cast<int>(record.size()));
    if (rc <= 0) {
      const int err = SSL_get_error(ssl_.get(), rc);
      if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
        wantWrite_ = err == SSL_ERROR_WANT_WRITE;
        return n > 0 ? Io::Ok : Io::Again;
      }
      ERR_clear_error();
      return Io::Failed;
    }
    n += static_cast<std::size_t>(rc);
    advance(iov, count, static_cast<std::size_t>(rc), i, offset);
  }
  return Io::Ok;
}

void Stream::shutdownWrite() {
  if (ssl_) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // close_notify; the peer's is not awaited
  }
  ::shutdown(fd_.get(), SHUT_WR);
}

}  // namespace portico::net
