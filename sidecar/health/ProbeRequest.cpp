#include "health/ProbeRequest.h"

#include "base/Duration.h"

namespace portico {

std::string ProbeRequest::path(const TargetUrl& target, const HealthSpec& spec) {
  const std::string& path = spec.path.empty() ? std::string("/") : spec.path;
  return target.basePath + (path.front() == '/' ? path : "/" + path);
}

std::string ProbeRequest::text(const TargetUrl& target, const HealthSpec& spec) {
  // authority() brackets an IPv6 host and keeps a non-default port.
  return "GET " + path(target, spec) + " HTTP/1.1\r\nHost: " + target.authority() +
         "\r\nUser-Agent: portico-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

ProbeResult ProbeRequest::verdict(int status) {
  if (status >= 200 && status < 400) return ProbeResult::success();
  return ProbeResult::failure("http: status " + std::to_string(status));
}

ProbeResult ProbeRequest::timedOut(const HealthSpec& spec) {
  return ProbeResult::failure("timeout after " + formatDuration(spec.timeout));
}

}  // namespace portico
