#pragma once

#include <Poco/Net/HTTPResponse.h>

#include <string>
#include <string_view>

namespace Poco::Net {
class HTTPServerResponse;
}

namespace portico {

/// The former entry points of the proxy's own answers, kept while callers move to ErrorReply
/// (which they forward to): Http2Stream still calls body().
class JsonError {
 public:
  /// The body {"error":"<message>"} followed by a newline.
  static std::string body(std::string_view message);
  /// Sends status + JSON body. `keepAlive` false closes the connection afterwards (when the
  /// request body was not read, the next request on the connection could not be parsed).
  static void send(Poco::Net::HTTPServerResponse& response,
                   Poco::Net::HTTPResponse::HTTPStatus status, std::string_view message,
                   bool keepAlive = true);
};

}  // namespace portico
