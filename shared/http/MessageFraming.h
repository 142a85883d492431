#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "http/HttpHead.h"

namespace portico::http {

/// How a message body is delimited.
enum class BodyFraming { Empty, Length, Chunked, UntilClose };

/// How a message body is delimited, decided strictly (RFC 9112 6.3) so that no two parsers could
/// read it differently. The one place that decides framing, for the proxy (both directions) and
/// the admin API. A refusal is a status value, not an exception: this runs on every request.
struct MessageFraming {
  BodyFraming framing{BodyFraming::Empty};
  std::uint64_t length{0};
  /// 0 when accepted; else the status to answer (400, 501 for a transfer coding the proxy does
  /// not implement, 502 for a response). The connection it came on must close: where the body
  /// ends is unknown.
  int refusal{0};
  std::string reason;  // why, when refused

  bool refused() const { return refusal != 0; }

  /// A client's request: Content-Length together with Transfer-Encoding, conflicting or
  /// malformed lengths, and codings other than a lone "chunked" are refused, as nginx and
  /// HAProxy refuse them.
  static MessageFraming ofRequest(const HttpHead& request);

  /// A target's response (`bodyless`: to HEAD, or 1xx/204/304): Transfer-Encoding wins over
  /// Content-Length; one not ending in chunked runs until the close; a malformed or conflicting
  /// length, or codings the proxy would have to strip, are refused with 502.
  static MessageFraming ofResponse(const HttpHead& response, bool bodyless);

  /// The Content-Length `message` announces, when it has one that is well formed.
  static std::optional<std::uint64_t> announcedLength(const HttpHead& message);
};

}  // namespace portico::http
