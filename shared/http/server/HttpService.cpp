#include "http/server/HttpService.h"

#include "base/JsonText.h"
#include "http/HttpHead.h"

namespace portico::http {

std::optional<std::string> ServerRequest::header(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [n, v] : headers) {
    if (!equalsNoCase(n, name)) continue;
    if (out) {
      out->append(", ").append(v);
    } else {
      out = v;
    }
  }
  return out;
}

ServerResponse ServerResponse::error(int status, std::string_view message) {
  ServerResponse r;
  r.status = status;
  r.body = "{\"error\":";
  appendJsonString(r.body, message);
  r.body += "}";
  return r;
}

}  // namespace portico::http
