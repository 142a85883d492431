#include "forward/ErrorReply.h"

#include <Poco/Net/HTTPServerResponse.h>

#include "base/JsonText.h"
#include "http/HttpDate.h"
#include "http/NumberText.h"

namespace portico {

ErrorReply::ErrorReply(int status, std::string_view message, std::string_view headers)
    : status_(status), body_(body(message)), headers_(headers) {}

std::string ErrorReply::body(std::string_view message) {
  return "{\"error\":" + jsonString(message) + "}\n";
}

std::string_view ErrorReply::lengthText(char (&digits)[24]) const {
  return http::decimalText(body_.size(), digits);
}

std::string_view ErrorReply::dateText() {
  return http::httpDate();
}

void ErrorReply::writeHttp1(bool keepAlive, std::string& out) const {
  char digits[24];
  out.append("HTTP/1.1 ").append(http::decimalText(static_cast<std::uint64_t>(status_), digits));
  out.push_back(' ');
  out.append(http::reasonPhrase(status_)).append("\r\nDate: ").append(http::httpDate());
  out.append("\r\nServer: portico\r\nContent-Type: ").append(kContentType);
  out.append("\r\nContent-Length: ").append(lengthText(digits)).append("\r\n");
  out.append(headers_);
  if (!keepAlive) out.append("Connection: close\r\n");
  out.append("\r\n").append(body_);
}

void ErrorReply::send(Poco::Net::HTTPServerResponse& response, bool keepAlive) const {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status_));
  response.setContentType(std::string(kContentType));
  response.setChunkedTransferEncoding(false);
  if (!keepAlive) response.setKeepAlive(false);
  response.setContentLength(static_cast<std::streamsize>(body_.size()));
  forEachHeaderLine(headers_, [&response](std::string_view name, std::string_view value) {
    response.set(std::string(name), std::string(value));
  });
  response.send().write(body_.data(), static_cast<std::streamsize>(body_.size())).flush();
}

}  // namespace portico
