#pragma once

#include <string>
#include <string_view>

#include "forward/HeaderLines.h"

namespace Poco::Net {
class HTTPServerResponse;
}

namespace portico {

/// The proxy's own answer to a request: a status and the body {"error":"<message>"}, written
/// the same for every client side — an HTTP/1.1 connection of the event loops, an HTTP/2
/// stream, the module's POCO response — so the three cannot drift apart.
class ErrorReply {
 public:
  static constexpr std::string_view kContentType = "application/json";

  /// `headers`: "Name: value\r\n" lines the answer carries besides its own (Retry-After,
  /// RateLimit-*).
  ErrorReply(int status, std::string_view message, std::string_view headers = {});

  /// The body {"error":"<message>"} followed by a newline.
  static std::string body(std::string_view message);

  int status() const { return status_; }
  const std::string& body() const { return body_; }

  /// The whole HTTP/1.1 answer, head and body, appended to `out`. `keepAlive` false adds
  /// "Connection: close" (the connection closes after it).
  void writeHttp1(bool keepAlive, std::string& out) const;
  /// Calls f(name, value) for each response header an HTTP/2 stream sends after :status
  /// (lower-case names, as RFC 9113 8.2.1 requires).
  template <class F>
  void forEachHttp2Header(F&& f) const {
    char digits[24];
    f("content-type", kContentType);
    f("content-length", lengthText(digits));
    f("date", dateText());
    f("server", std::string_view("portico"));
    forEachHeaderLine(headers_, f);
  }
  /// Sends status and body on a POCO response. `keepAlive` false closes the connection after it
  /// (when the request body was not read, the next request could not be parsed).
  void send(Poco::Net::HTTPServerResponse& response, bool keepAlive = true) const;

 private:
  std::string_view lengthText(char (&digits)[24]) const;
  static std::string_view dateText();

  int status_;
  std::string body_;
  std::string headers_;
};

}  // namespace portico
