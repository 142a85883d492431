#include "ctl/ApiClient.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <sstream>

#include "ctl/CtlArgs.h"

namespace portico::ctl {

namespace {

// Long enough for a write with ?wait= (at most one minute) and a large configuration.
constexpr long kTimeoutSeconds = 90;

}  // namespace

int exitCodeFor(int status) {
  if (status >= 200 && status < 300) return 0;
  if (status == 409 || status == 412) return 3;
  return 1;
}

std::string errorMessage(const ApiReply& reply) {
  try {
    auto object = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Object::Ptr>();
    if (object && object->has("error")) return object->getValue<std::string>("error");
  } catch (const std::exception&) {
    // not JSON: the body itself says what went wrong
  }
  if (!reply.body.empty()) return reply.body;
  return "the sidecar answered " + std::to_string(reply.status);
}

std::string queryString(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    std::string encoded;
    Poco::URI::encode(value, "?#[]@!$&'()*+,;=/:%", encoded);
    out += (out.empty() ? "?" : "&") + name + "=" + encoded;
  }
  return out;
}

ApiClient::ApiClient(const std::string& server, std::string token) : token_(std::move(token)) {
  Poco::URI uri;
  try {
    uri = Poco::URI(server);
  } catch (const Poco::Exception& e) {
    throw UsageError("--server '" + server + "': " + e.displayText());
  }
  if (uri.getScheme() != "http" || uri.getHost().empty())
    throw UsageError("--server '" + server + "' is not http://host[:port]");
  host_ = uri.getHost();
  port_ = uri.getPort();
}

ApiReply ApiClient::call(const std::string& method, const std::string& pathAndQuery,
                         const std::string& body,
                         const std::map<std::string, std::string>& headers) const {
  try {
    Poco::Net::HTTPClientSession session(host_, port_);
    session.setTimeout(Poco::Timespan(kTimeoutSeconds, 0));
    Poco::Net::HTTPRequest request(method, pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token_.empty()) request.set("Authorization", "Bearer " + token_);
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    ApiReply reply;
    reply.status = response.getStatus();
    reply.etag = response.get("ETag", "");
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    reply.body = text.str();
    return reply;
  } catch (const Poco::Exception& e) {
    throw SidecarUnreachable("cannot reach the sidecar at http://" + host_ + ":" +
                             std::to_string(port_) + ": " + e.displayText());
  } catch (const std::ios_base::failure& e) {
    throw SidecarUnreachable("cannot reach the sidecar at http://" + host_ + ":" +
                             std::to_string(port_) + ": " + e.what());
  }
}

ApiReply ApiClient::expect(const std::string& method, const std::string& pathAndQuery,
                           const std::string& body,
                           const std::map<std::string, std::string>& headers) const {
  ApiReply reply = call(method, pathAndQuery, body, headers);
  if (const int code = exitCodeFor(reply.status); code != 0)
    throw ApiFailure(code, errorMessage(reply));
  return reply;
}

}  // namespace portico::ctl
