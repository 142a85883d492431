#include "forward/JsonError.h"

#include "forward/ErrorReply.h"

namespace portico {

std::string JsonError::body(std::string_view message) {
  return ErrorReply::body(message);
}

void JsonError::send(Poco::Net::HTTPServerResponse& response,
                     Poco::Net::HTTPResponse::HTTPStatus status, std::string_view message,
                     bool keepAlive) {
  ErrorReply(status, message).send(response, keepAlive);
}

}  // namespace portico
