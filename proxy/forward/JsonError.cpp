#include "forward/JsonError.h"

#include <Poco/Net/HTTPServerResponse.h>

#include "base/JsonText.h"

namespace portico {

std::string JsonError::body(std::string_view message) {
  return "{\"error\":" + jsonString(message) + "}\n";
}

void JsonError::send(Poco::Net::HTTPServerResponse& response,
                     Poco::Net::HTTPResponse::HTTPStatus status, std::string_view message,
                     bool keepAlive) {
  const std::string text = body(message);
  response.setStatusAndReason(status);
  response.setContentType("application/json");
  response.setChunkedTransferEncoding(false);
  if (!keepAlive) response.setKeepAlive(false);
  response.setContentLength(static_cast<std::streamsize>(text.size()));
  response.send().write(text.data(), static_cast<std::streamsize>(text.size())).flush();
}

}  // namespace portico
