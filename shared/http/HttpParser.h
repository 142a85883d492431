#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/HttpHead.h"

struct llhttp__internal_s;  // NOLINT(bugprone-reserved-identifier): llhttp's own name

namespace portico::http {

/// Where a parser delivers the body of a message as it arrives, undecoded bytes of the framing
/// removed: the receiver frames it again for the next hop (so no framing quirk of the sender,
/// such as chunk extensions or trailers, travels on).
class BodySink {
 public:
  virtual ~BodySink() = default;
  /// Chunked bodies: a chunk of `size` (> 0) bytes starts.
  virtual void chunkStart(std::uint64_t size) { (void)size; }
  virtual void data(const char* bytes, std::size_t size) = 0;
  /// Chunked bodies: the chunk that started last is complete.
  virtual void chunkEnd() {}
};

/// An incremental, strict HTTP/1.x parser for requests or responses: llhttp (Node.js's parser)
/// plus the rules RFC 9112 leaves to the recipient — header names are tokens, no obsolete line
/// folding, no control characters in values, one Host on HTTP/1.1, versions 1.0 and 1.1 only,
/// and limits on the request target and the head. It never blocks and never copies: the head
/// stays in the caller's buffer (see HttpHead), body bytes go to a BodySink.
///
/// A refused message is a status to answer (400, 414, 431, 501, 505), never an exception: this
/// runs on every request.
class HttpParser {
 public:
  enum class Kind { Request, Response };
  enum class Status {
    NeedMore,         // everything given was used; the message goes on
    HeadComplete,     // head() is ready; call feed() again for the body
    MessageComplete,  // the message (and its body) ended; reset() before the next one
    Error             // errorStatus() / errorMessage(); the connection must close
  };
  struct Limits {
    std::size_t maxHeadBytes{32 * 1024};   // request line or status line and every header
    std::size_t maxTargetBytes{8 * 1024};  // the request target alone (414 past it)
  };

  explicit HttpParser(Kind kind) : HttpParser(kind, Limits()) {}
  HttpParser(Kind kind, Limits limits);
  ~HttpParser();
  HttpParser(const HttpParser&) = delete;
  HttpParser& operator=(const HttpParser&) = delete;

  /// Starts the next message on the same connection.
  void reset();
  /// The message is a response with no body whatever its head says (to a HEAD request). Set
  /// before the head arrives; reset() clears it.
  void expectNoBody() { noBody_ = true; }

  /// Parses bytes [begin, end) of the buffer at `base`, which holds the message from its first
  /// byte on (the caller may move the buffer between calls, keeping offsets). Stops after the
  /// head and after the message. `consumed` tells how many bytes of [begin, end) were used.
  Status feed(const char* base, std::size_t begin, std::size_t end, BodySink* sink,
              std::size_t& consumed);
  /// The peer closed: a body delimited by the close is complete (MessageComplete); a message
  /// cut short is an Error; nothing started is NeedMore.
  Status finish(BodySink* sink);

  /// Copies the head out of the caller's buffer into the head's own storage, so the buffer can
  /// move or be reused while the head is still read (one copy of a few hundred bytes per
  /// request). Call after HeadComplete.
  void detachHead();

  HttpHead& head() { return head_; }
  const HttpHead& head() const { return head_; }
  bool started() const { return started_; }
  bool headComplete() const { return headDone_; }
  bool messageComplete() const { return messageDone_; }
  /// After the head: whether the connection may carry another message (version and
  /// Connection: close / keep-alive).
  bool keepAlive() const;
  /// After the head: an Upgrade the message asks for (request) or agrees to (101 response).
  bool upgrade() const;
  /// The body length the parser still expects when it reads a Content-Length body.
  std::uint64_t bodyBytes() const { return bodyBytes_; }

  int errorStatus() const { return errorStatus_; }
  const std::string& errorMessage() const { return errorMessage_; }

 private:
  struct Callbacks;
  friend struct Callbacks;

  int fail(int status, const char* message);
  int extend(HttpHead::Span& span, const char* at, std::size_t length);
  int onHeadersComplete();

  Kind kind_;
  Limits limits_;
  std::unique_ptr<llhttp__internal_s> parser_;
  HttpHead head_;
  BodySink* sink_{nullptr};
  const char* base_{nullptr};
  const char* end_{nullptr};  // one past the bytes of the current feed()
  std::size_t headBytes_{0};
  std::size_t messageStart_{0};
  std::uint64_t bodyBytes_{0};
  bool started_{false};
  bool headDone_{false};
  bool headReported_{false};
  bool messageDone_{false};
  bool noBody_{false};
  bool inValue_{false};  // the last header event was a value (a new name starts a new field)
  bool inChunk_{false};
  int errorStatus_{0};
  std::string errorMessage_;
};

}  // namespace portico::http
