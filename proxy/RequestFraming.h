#pragma once

#include <Poco/Net/HTTPResponse.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "BodyReader.h"

namespace Poco::Net {
class HTTPRequest;
}

namespace portico {

/// A request whose body framing the proxy refuses to guess at; `status` is the answer (400, or
/// 501 for a transfer coding it does not implement). The connection must close after it: where
/// the body ends is unknown.
class FramingRefused : public std::runtime_error {
 public:
  FramingRefused(Poco::Net::HTTPResponse::HTTPStatus status, const std::string& why)
      : std::runtime_error(why), status(status) {}
  Poco::Net::HTTPResponse::HTTPStatus status;
};

/// How a client's request body is delimited, decided strictly (RFC 9112 6.3) so that no two
/// parsers could read it differently: Content-Length together with Transfer-Encoding,
/// conflicting or malformed lengths, and codings other than a lone "chunked" are refused, as
/// nginx and HAProxy refuse them.
struct RequestFraming {
  BodyReader::Framing framing{BodyReader::Framing::Empty};
  std::uint64_t length{0};

  /// Throws FramingRefused.
  static RequestFraming of(const Poco::Net::HTTPRequest& request);
};

}  // namespace portico
