#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "http/MessageFraming.h"

namespace Poco::Net {
class HTTPSession;
}

namespace portico {

/// A message body ended before its framing said it would (peer closed, broken chunk syntax).
class BodyTruncated : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads one message body straight from an HTTP session (client or server side) into the
/// caller's buffer, strictly by its framing. Unlike POCO's body streams it reports a body cut
/// short as an error rather than as its end, so a proxy never passes a truncated body on as a
/// complete one, and it reads as much as one recv() gives instead of 4 KiB at a time.
class BodyReader {
 public:
  using Framing = http::BodyFraming;

  BodyReader(Poco::Net::HTTPSession& session, Framing framing, std::uint64_t length = 0);

  /// Up to `capacity` bytes of the body; 0 once it is complete. Blocks only when nothing is
  /// buffered. Throws BodyTruncated, or the session's network exception.
  std::size_t read(char* buffer, std::size_t capacity);

  /// True when body bytes already received wait in the session buffer, so the next read
  /// will not block. False at a chunk boundary (the next chunk may be far off): callers flush
  /// what they have before reading on.
  bool hasBuffered() const;
  bool finished() const { return state_ == State::Done; }
  std::uint64_t bytesRead() const { return total_; }

 private:
  enum class State { Data, DataEnd, Size, Trailers, Done };

  int next();  // one byte of framing, or -1 at end of stream
  void readSizeLine();
  void readTrailers();

  Poco::Net::HTTPSession& session_;
  Framing framing_;
  State state_;
  std::uint64_t left_{0};  // bytes left in the body (Length) or in the current chunk
  std::uint64_t total_{0};
};

}  // namespace portico
