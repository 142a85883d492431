#include "module/RejectHandler.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <chrono>

#include "forward/ErrorReply.h"
#include "forward/RequestId.h"
#include "observe/AccessLog.h"

namespace portico {

using Poco::Net::HTTPMessage;

namespace {
/// The default of header look-ups kept as views (get() returns a reference to its default).
const std::string kNoValue;
}  // namespace

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void RejectHandler::handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) {
  const auto started = std::chrono::steady_clock::now();
  // An unread body would be parsed as the next request: keep the connection only without one
  // (judged from the raw headers: a malformed length must not throw here).
  const bool hasBody = request.has(HTTPMessage::TRANSFER_ENCODING) ||
                       request.get(HTTPMessage::CONTENT_LENGTH, "0") != "0";
  const ErrorReply reply(status_, message_);
  int status = status_;
  try {
    reply.send(response, !hasBody);
  } catch (const Poco::Exception&) {
    status = 499;
  }
  const double ms = AccessLog::millisecondsSince(started);
  if (context_.metrics)
    context_.metrics->requestDone(context_.metrics->threadShard(), nullptr, nullptr, status,
                                  ms / 1000);
  if (context_.accessLog->enabled()) {
    const std::string client = request.clientAddress().host().toString();
    const std::string& incoming = request.get(RequestIdGenerator::kHeader, kNoValue);
    char generated[RequestIdGenerator::kLength];
    AccessRecord record;
    record.requestId = RequestIdGenerator::acceptable(incoming)
                           ? std::string_view(incoming)
                           : RequestIdGenerator::forThisThread().next(generated);
    record.protocol = request.getVersion();
    record.referer = request.get("Referer", kNoValue);
    record.userAgent = request.get("User-Agent", kNoValue);
    record.client = client;
    record.method = request.getMethod();
    record.target = request.getURI();
    record.route = "-";
    record.upstream = "-";
    record.status = status;
    record.bytes = reply.body().size();
    record.durationMs = ms;
    context_.accessLog->write(record);
  }
}

}  // namespace portico
