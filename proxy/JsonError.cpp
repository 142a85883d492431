#include "JsonError.h"

#include <Poco/Net/HTTPServerResponse.h>

#include <cstdio>

namespace portico {

std::string JsonError::quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string JsonError::body(std::string_view message) {
  return "{\"error\":" + quote(message) + "}\n";
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
