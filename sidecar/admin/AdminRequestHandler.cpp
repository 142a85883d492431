#include "admin/AdminRequestHandler.h"

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <optional>

#include "admin/AdminApi.h"
#include "admin/Dashboard.h"
#include "base/Log.h"
#include "base/Utf8.h"
#include "metrics/Exposition.h"
#include "observe/SidecarMetrics.h"

namespace portico {
namespace {

/// Compares in time that depends only on the expected secret's length.
bool sameSecret(const std::string& given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

}  // namespace

const char* const AdminRequestHandler::kMetricsPath = "/metrics";
const char* const AdminRequestHandler::kStatusPageEndpoint = "/";

AdminRequestHandler::AdminRequestHandler(AdminApi& api, const Dashboard& dashboard,
                                         std::string token, SidecarMetrics* metrics)
    : api_(api), dashboard_(dashboard), token_(std::move(token)), metrics_(metrics) {}

bool AdminRequestHandler::authorized(const http::ServerRequest& request) const {
  if (token_.empty()) return true;
  const std::string header = Poco::trim(request.header("Authorization").value_or(""));
  const auto space = header.find(' ');
  if (space == std::string::npos || Poco::icompare(header.substr(0, space), "Bearer") != 0)
    return false;
  return sameSecret(Poco::trim(header.substr(space + 1)), token_);
}

http::ServerResponse AdminRequestHandler::toHttp(const AdminResponse& answer) {
  http::ServerResponse out;
  out.status = answer.status;
  out.contentType = answer.contentType;
  out.body = answer.body;
  out.headers.emplace_back("Cache-Control", "no-store");
  if (!answer.allow.empty()) out.headers.emplace_back("Allow", answer.allow);
  if (answer.revision >= 0)
    out.headers.emplace_back("ETag", "\"" + std::to_string(answer.revision) + "\"");
  for (const auto& header : answer.headers) out.headers.push_back(header);
  return out;
}

AdminResponse AdminRequestHandler::answer(const http::ServerRequest& request,
                                          std::string& endpoint) {
  const Poco::URI uri(request.target);
  const std::string& path = uri.getPath();
  endpoint = metrics_ && path == kMetricsPath ? kMetricsPath : api_.endpointOf(path);
  if (auto page = dashboard_.answer(request.method, path)) {
    // The page's files hold no data, so a browser gets them without the token it is about to
    // ask for.
    endpoint = kStatusPageEndpoint;
    return std::move(*page);
  }
  if (!authorized(request)) {
    AdminResponse denied = AdminApi::errorAnswer(401, "missing or invalid bearer token");
    denied.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"portico-admin\"");
    return denied;
  }
  if (metrics_ && path == kMetricsPath) {
    if (request.method != "GET" && request.method != "HEAD")
      return AdminApi::errorAnswer(
          405,
          "method " + printable(request.method) + " not allowed on /metrics (allowed: GET, HEAD)",
          "GET, HEAD");
    AdminResponse scrape;
    scrape.body = metrics_->scrape();
    scrape.contentType = metrics::Exposition::kContentType;
    return scrape;
  }
  AdminRequest req;
  req.method = request.method;
  req.path = path;
  req.query = uri.getQueryParameters();
  req.body = request.body;
  req.client = request.peer;
  req.ifMatch = request.header("If-Match");
  return api_.handle(req);
}

http::ServerResponse AdminRequestHandler::handle(const http::ServerRequest& request) {
  AdminResponse out;
  std::string endpoint = "other";
  try {
    out = answer(request, endpoint);
  } catch (const Poco::Exception& e) {
    out = AdminApi::errorAnswer(400, "bad request: " + e.displayText());
  } catch (const std::exception& e) {
    logError("admin: internal error on " + printable(request.method + " " + request.target) + ": " +
             e.what());
    out = AdminApi::errorAnswer(500, std::string("internal error: ") + e.what());
  }
  if (metrics_) metrics_->adminRequest(request.method, endpoint, out.status);
  return toHttp(out);
}

http::ServerResponse AdminRequestHandler::refused(const http::ServerRequest& request,
                                                  http::ServerResponse answer) {
  // An error answer reflects the store as it is now (its ETag), as the API's own errors do.
  AdminResponse tagged;
  tagged.status = answer.status;
  tagged.body = std::move(answer.body);
  std::string endpoint = "other";
  try {
    endpoint = api_.endpointOf(Poco::URI(request.target).getPath());
  } catch (const Poco::Exception&) {
  }
  if (metrics_) metrics_->adminRequest(request.method, endpoint, tagged.status);
  http::ServerResponse out = toHttp(api_.current(std::move(tagged)));
  out.close = true;
  return out;
}

void AdminRequestHandler::refusedUnparsed(int status) {
  if (metrics_) metrics_->adminRequest("", "other", status);
}

}  // namespace portico
