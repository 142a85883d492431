#include "AdminRequestHandler.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <istream>
#include <optional>

#include "AdminApi.h"
#include "Dashboard.h"
#include "Log.h"
#include "SidecarMetrics.h"
#include "metrics/Exposition.h"

namespace portico {
namespace {

// A rejected body is read and dropped up to this size before the answer, so a client that
// writes its whole body before reading sees the 413/401 rather than a connection reset.
constexpr std::size_t kDrainLimit = 16 * 1024 * 1024;

/// Reads the body; false when it is longer than `limit` (then `body` holds limit + 1 bytes).
bool readLimited(std::istream& in, std::string& body, std::size_t limit) {
  char buffer[16384];
  while (in) {
    in.read(buffer, sizeof buffer);
    body.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (body.size() > limit) return false;
  }
  return true;
}

/// Reads and drops the rest of the body; true when it ended within `limit` bytes.
bool drain(std::istream& in, std::size_t limit) {
  char buffer[16384];
  std::size_t total = 0;
  while (in && total <= limit) {
    in.read(buffer, sizeof buffer);
    total += static_cast<std::size_t>(in.gcount());
  }
  return in.eof() && !in.bad();
}

/// Every If-Match header as one list (a client may send several); nothing when there is none.
std::optional<std::string> ifMatchHeader(const Poco::Net::HTTPServerRequest& request) {
  std::optional<std::string> out;
  for (auto it = request.find("If-Match");
       it != request.end() && Poco::icompare(it->first, "If-Match") == 0; ++it)
    out = out ? *out + ", " + it->second : it->second;
  return out;
}

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

AdminRequestHandler::AdminRequestHandler(AdminApi& api, const Dashboard& dashboard,
                                         const std::string& token, SidecarMetrics* metrics)
    : api_(api), dashboard_(dashboard), token_(token), metrics_(metrics) {}

const char* const AdminRequestHandler::kMetricsPath = "/metrics";
const char* const AdminRequestHandler::kStatusPageEndpoint = "/";

bool AdminRequestHandler::authorized(const Poco::Net::HTTPServerRequest& request) const {
  if (token_.empty()) return true;
  const std::string header = Poco::trim(request.get("Authorization", ""));
  const auto space = header.find(' ');
  if (space == std::string::npos || Poco::icompare(header.substr(0, space), "Bearer") != 0)
    return false;
  return sameSecret(Poco::trim(header.substr(space + 1)), token_);
}

void AdminRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                        Poco::Net::HTTPServerResponse& response) {
  AdminResponse answer;
  std::string endpoint = "other";
  bool keepAlive = true;
  std::istream& in = request.stream();
  try {
    // Without Content-Length or chunked framing a request has no body (RFC 9112 6.3); POCO's
    // stream would otherwise wait for the client to close.
    const bool hasBody = request.hasContentLength() || request.getChunkedTransferEncoding();
    const Poco::URI uri(request.getURI());
    const std::string path = uri.getPath();
    endpoint = metrics_ && path == kMetricsPath ? kMetricsPath : api_.endpointOf(path);
    if (auto page = dashboard_.answer(request.getMethod(), path)) {
      // The page's files hold no data, so a browser gets them without the token it is about
      // to ask for.
      endpoint = kStatusPageEndpoint;
      keepAlive = !hasBody || drain(in, kDrainLimit);
      answer = std::move(*page);
    } else if (!authorized(request)) {
      keepAlive = !hasBody || drain(in, kDrainLimit);
      answer = AdminApi::errorAnswer(401, "missing or invalid bearer token");
      response.set("WWW-Authenticate", "Bearer realm=\"portico-admin\"");
    } else if (request.hasContentLength() &&
               request.getContentLength64() > static_cast<Poco::Int64>(kMaxBody)) {
      keepAlive = request.getContentLength64() <= static_cast<Poco::Int64>(kDrainLimit) &&
                  drain(in, kDrainLimit);
      answer = api_.current(AdminApi::errorAnswer(413, "request body is larger than 1 MiB"));
    } else {
      AdminRequest req;
      std::string body;
      if (hasBody && !readLimited(in, body, kMaxBody)) {
        // A chunked body has no length up front; it is counted as it is read.
        keepAlive = drain(in, kDrainLimit);
        answer = api_.current(AdminApi::errorAnswer(413, "request body is larger than 1 MiB"));
      } else if (in.bad()) {
        keepAlive = false;
        answer = AdminApi::errorAnswer(400, "could not read the request body");
      } else {
        req.method = request.getMethod();
        req.path = uri.getPath();
        req.query = uri.getQueryParameters();
        req.body = std::move(body);
        if (metrics_ && req.path == kMetricsPath) {
          if (req.method == "GET" || req.method == "HEAD") {
            answer.status = 200;
            answer.body = metrics_->scrape();
            answer.contentType = metrics::Exposition::kContentType;
          } else {
            answer = AdminApi::errorAnswer(
                405, "method " + req.method + " not allowed on /metrics (allowed: GET, HEAD)",
                "GET, HEAD");
          }
        } else {
          req.client = request.clientAddress().host().toString();
          req.ifMatch = ifMatchHeader(request);
          answer = api_.handle(req);
        }
      }
    }
  } catch (const Poco::Exception& e) {
    keepAlive = false;
    answer = AdminApi::errorAnswer(400, "bad request: " + e.displayText());
  } catch (const std::exception& e) {
    logError("admin: internal error on " + request.getMethod() + " " + request.getURI() + ": " +
             e.what());
    keepAlive = false;
    answer = AdminApi::errorAnswer(500, std::string("internal error: ") + e.what());
  }

  try {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
    response.setContentType(answer.contentType);
    response.set("Cache-Control", "no-store");
    if (!answer.allow.empty()) response.set("Allow", answer.allow);
    if (answer.revision >= 0) response.set("ETag", "\"" + std::to_string(answer.revision) + "\"");
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    if (!keepAlive) response.setKeepAlive(false);
    response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
    response.sendBuffer(answer.body.data(), answer.body.size());
  } catch (const Poco::Exception& e) {
    logWarn("admin: could not send the answer to " + request.clientAddress().toString() + ": " +
            e.displayText());
  }
  if (metrics_) metrics_->adminRequest(request.getMethod(), endpoint, answer.status);
}

}  // namespace portico
