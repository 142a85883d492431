#include "module/BodyReader.h"

#include <Poco/Net/HTTPSession.h>

#include <algorithm>
#include <string>

namespace portico {
namespace {

/// Reaches HTTPSession's protected I/O (get/read/buffered) for any session, client or
/// server side: a pointer to an inherited protected member may be formed through a derived
/// class and then applied to any object of the base.
class SessionIo : public Poco::Net::HTTPSession {
 public:
  static int readSome(HTTPSession& s, char* buffer, std::streamsize n) {
    return (s.*&SessionIo::read)(buffer, n);
  }
  static int nextByte(HTTPSession& s) { return (s.*&SessionIo::get)(); }
  static int bufferedBytes(const HTTPSession& s) { return (s.*&SessionIo::buffered)(); }

 private:
  SessionIo() = delete;
};

constexpr std::size_t kMaxSizeLine = 4096;
constexpr std::size_t kMaxTrailers = 64 * 1024;

}  // namespace

BodyReader::BodyReader(Poco::Net::HTTPSession& session, Framing framing, std::uint64_t length)
    : session_(session), framing_(framing), state_(State::Data), left_(length) {
  if (framing_ == Framing::Empty || (framing_ == Framing::Length && length == 0))
    state_ = State::Done;
  if (framing_ == Framing::Chunked) state_ = State::Size;
}

bool BodyReader::hasBuffered() const {
  return state_ == State::Data && SessionIo::bufferedBytes(session_) > 0;
}

int BodyReader::next() {
  const int c = SessionIo::nextByte(session_);
  // HTTPSession::get() returns a plain char: a 0xFF byte looks like EOF, which framing
  // never contains anyway.
  return c < 0 ? -1 : c;
}

std::size_t BodyReader::read(char* buffer, std::size_t capacity) {
  for (;;) {
    switch (state_) {
      case State::Done:
        return 0;
      case State::Data: {
        std::size_t want = capacity;
        if (framing_ != Framing::UntilClose)
          want = static_cast<std::size_t>(std::min<std::uint64_t>(want, left_));
        const int n = SessionIo::readSome(session_, buffer, static_cast<std::streamsize>(want));
        if (n <= 0) {
          if (framing_ == Framing::UntilClose) {
            state_ = State::Done;
            return 0;
          }
          throw BodyTruncated("connection closed " + std::to_string(left_) +
                              " bytes before the end of the body");
        }
        total_ += static_cast<std::uint64_t>(n);
        if (framing_ != Framing::UntilClose) {
          left_ -= static_cast<std::uint64_t>(n);
          if (left_ == 0) state_ = framing_ == Framing::Chunked ? State::DataEnd : State::Done;
        }
        return static_cast<std::size_t>(n);
      }
      case State::DataEnd: {
        int c = next();
        if (c == '\r') c = next();
        if (c != '\n') throw BodyTruncated("chunk not followed by CRLF");
        state_ = State::Size;
        break;
      }
      case State::Size:
        readSizeLine();
        break;
      case State::Trailers:
        readTrailers();
        state_ = State::Done;
        return 0;
    }
  }
}

void BodyReader::readSizeLine() {
  std::uint64_t size = 0;
  std::size_t digits = 0;
  std::size_t length = 0;
  int c = next();
  for (;; c = next(), ++length) {
    if (c < 0) throw BodyTruncated("connection closed inside a chunk size line");
    if (length > kMaxSizeLine) throw BodyTruncated("chunk size line too long");
    int v = -1;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    if (v < 0) break;
    if (++digits > 15) throw BodyTruncated("chunk size too large");
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  if (digits == 0) throw BodyTruncated("malformed chunk size");
  // Chunk extensions (";name=value") and whitespace up to the end of the line are ignored.
  while (c != '\n') {
    c = next();
    if (c < 0) throw BodyTruncated("connection closed inside a chunk size line");
    if (++length > kMaxSizeLine) throw BodyTruncated("chunk size line too long");
  }
  if (size == 0) {
    state_ = State::Trailers;
  } else {
    left_ = size;
    state_ = State::Data;
  }
}

void BodyReader::readTrailers() {
  // Trailer fields are dropped (the proxy does not forward trailers); read up to the blank line.
  std::size_t total = 0;
  std::size_t lineLength = 0;
  for (;;) {
    const int c = next();
    if (c < 0) throw BodyTruncated("connection closed inside the chunked trailer");
    if (++total > kMaxTrailers) throw BodyTruncated("chunked trailer too long");
    if (c == '\n') {
      if (lineLength == 0) return;
      lineLength = 0;
    } else if (c != '\r') {
      ++lineLength;
    }
  }
}

}  // namespace portico
