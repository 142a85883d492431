#include "admin/Dashboard.h"

namespace portico {
namespace {

std::string htmlEscaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string contentTypeOf(const std::string& name) {
  const auto dot = name.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

Dashboard::Dashboard(const std::string& adminPrefix) {
  for (const auto& [name, text] : embeddedFiles()) {
    File file{contentTypeOf(name), text};
    if (name == "index.html") {
      // The page learns the API's prefix from a meta tag: admin.prefix is configurable.
      const std::string marker = "{{ADMIN_PREFIX}}";
      const auto at = file.body.find(marker);
      if (at != std::string::npos) file.body.replace(at, marker.size(), htmlEscaped(adminPrefix));
      files_["/"] = file;
    }
    files_["/" + name] = std::move(file);
  }
}

std::optional<AdminResponse> Dashboard::answer(const std::string& method,
                                               const std::string& path) const {
  const auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  if (method != "GET" && method != "HEAD") {
    return AdminApi::errorAnswer(
        405, "method " + method + " not allowed on " + path + " (allowed: GET, HEAD)", "GET, HEAD");
  }
  AdminResponse r;
  r.status = 200;
  r.body = it->second.body;
  r.contentType = it->second.contentType;
  // Everything the page needs comes from this server; it may not be framed (its buttons change
  // the store).
  r.headers = {{"Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'"},
               {"X-Content-Type-Options", "nosniff"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  return r;
}

}  // namespace portico
