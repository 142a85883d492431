#pragma once

#include <string>
#include <string_view>

#include "forward/ErrorReply.h"
#include "forward/ResponseHead.h"
#include "http/HttpHead.h"
#include "net/Outbox.h"

namespace portico {

/// The HTTP/1.1 framing of a client connection's responses, one at a time, onto its outbox:
/// the head the exchange made ready, body bytes chunked or as they come, the last chunk; the
/// proxy's own JSON answers; 100 Continue; the 101 of a WebSocket upgrade. It remembers whether
/// the connection closes after the response. No I/O: the connection flushes the outbox.
class Http1ResponseWriter {
 public:
  explicit Http1ResponseWriter(net::Outbox& out) : out_(out) {}
  Http1ResponseWriter(const Http1ResponseWriter&) = delete;
  Http1ResponseWriter& operator=(const Http1ResponseWriter&) = delete;

  /// The go-ahead a client that sent "Expect: 100-continue" waits for (RFC 9110 10.1.1).
  void interimContinue() { out_.append("HTTP/1.1 100 Continue\r\n\r\n"); }
  /// The target's head. `clientKeepsAlive`: the client's side allows another request after this
  /// one (its head asked for it, its request was read in full, the proxy is not draining); the
  /// target's response may still close the connection.
  void head(const ResponseHead& head, bool clientKeepsAlive, std::string& scratch);
  /// Body bytes, referenced (they stay put until the next flush).
  void body(std::string_view bytes);
  /// The target's trailer fields (an HTTP/2 target's, to a client that sent "TE: trailers"):
  /// a chunked body ends with them as its trailer section (RFC 9112 7.1.2); fields a trailer
  /// must not carry (framing, routing: RFC 9110 6.5.1) are dropped. A body that is not chunked
  /// has no place for them.
  void trailers(const http::HttpHead& fields, std::string& scratch);
  /// The response is complete (the last chunk of a chunked one, unless trailers() wrote it).
  void end();
  /// The proxy's own answer, in full.
  void error(const ErrorReply& reply, bool clientKeepsAlive, std::string& scratch);
  /// 101 Switching Protocols: bytes are relayed from here on.
  void switching(const ResponseHead& head, std::string& scratch);

  /// The connection closes once the response is out.
  bool closeAfter() const { return closeAfter_; }

 private:
  net::Outbox& out_;
  bool chunked_{false};
  bool closeAfter_{false};
};

}  // namespace portico
