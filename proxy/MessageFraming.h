#pragma once

#include <Poco/Net/HTTPResponse.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "BodyReader.h"

namespace Poco::Net {
class HTTPMessage;
class HTTPRequest;
class HTTPResponse;
}  // namespace Poco::Net

namespace portico {

/// A message whose body framing the proxy refuses to guess at; `status` is the answer to the
/// client (400, or 501 for a transfer coding it does not implement; 502 for a response). The
/// connection it came on must close: where the body ends is unknown.
class FramingRefused : public std::runtime_error {
 public:
  FramingRefused(Poco::Net::HTTPResponse::HTTPStatus status, const std::string& why)
      : std::runtime_error(why), status(status) {}
  Poco::Net::HTTPResponse::HTTPStatus status;
};

/// How a message body is delimited, decided strictly (RFC 9112 6.3) so that no two parsers
/// could read it differently.
struct MessageFraming {
  BodyReader::Framing framing{BodyReader::Framing::Empty};
  std::uint64_t length{0};

  /// A client's request: Content-Length together with Transfer-Encoding, conflicting or
  /// malformed lengths, and codings other than a lone "chunked" are refused, as nginx and
  /// HAProxy refuse them. Throws FramingRefused.
  static MessageFraming ofRequest(const Poco::Net::HTTPRequest& request);

  /// A target's response (`bodyless`: to HEAD, or 1xx/204/304): Transfer-Encoding wins over
  /// Content-Length; one not ending in chunked runs until the close; a malformed or conflicting
  /// length, or codings the proxy would have to strip, are refused with 502.
  static MessageFraming ofResponse(const Poco::Net::HTTPResponse& response, bool bodyless);

  /// The Content-Length `message` announces, when it has one that is well formed.
  static std::optional<std::uint64_t> announcedLength(const Poco::Net::HTTPMessage& message);
};

}  // namespace portico
