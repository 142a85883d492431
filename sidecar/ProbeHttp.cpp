#include "ProbeHttp.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>

#include "ProbeConnect.h"

namespace portico {

std::string ProbeHttp::requestPath(const TargetUrl& target, const HealthSpec& spec) {
  const std::string& path = spec.path.empty() ? std::string("/") : spec.path;
  return target.basePath + (path.front() == '/' ? path : "/" + path);
}

ProbeResult ProbeHttp::check(const TargetUrl& target, const HealthSpec& spec,
                             std::chrono::steady_clock::time_point deadline) {
  Poco::Net::StreamSocket socket;
  if (auto failed = ProbeConnect::open(socket, target, spec, deadline)) return *failed;
  ProbeResult result;
  try {
    // One timeout covers connect and response: what is left of it bounds each read.
    const auto left = ProbeConnect::remainingMicros(deadline);
    if (!left) {
      ProbeConnect::abort(socket);
      return ProbeConnect::timedOut(spec);
    }
    socket.setSendTimeout(Poco::Timespan(*left));
    socket.setReceiveTimeout(Poco::Timespan(*left));
    Poco::Net::HTTPClientSession session(socket);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, requestPath(target, spec),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    // authority() brackets an IPv6 host; setHost(host, port) would not.
    request.setHost(target.authority());
    request.set("User-Agent", "portico-health");
    request.setKeepAlive(false);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response);
    const int status = static_cast<int>(response.getStatus());
    if (std::chrono::steady_clock::now() > deadline) {
      result = ProbeConnect::timedOut(spec);
    } else if (status < 200 || status >= 400) {
      result = ProbeResult::failure("http: status " + std::to_string(status));
    }
    // The body is not read: the status decides, and the connection is reset below.
  } catch (const Poco::TimeoutException&) {
    result = ProbeConnect::timedOut(spec);
  } catch (const Poco::Net::NetException& e) {
    result = ProbeResult::failure("http: " + std::string(e.name()));
  } catch (const Poco::Exception& e) {
    result = ProbeResult::failure("http: " + e.displayText());
  }
  ProbeConnect::abort(socket);
  return result;
}

}  // namespace portico
