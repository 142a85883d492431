#include "health/ProbeRequest.h"

#include "base/Duration.h"

namespace portico {

std::string ProbeRequest::path(const TargetUrl& target, const HealthSpec& spec) {
  const std::string& path = spec.path.empty() ? std::string("/") : spec.path;
  return target.basePath + (path.front() == '/' ? path : "/" + path);
}

std::string ProbeRequest::host(const TargetUrl& target, const std::string& routeHost) {
  // A wildcard names no one site to ask for. authority() brackets an IPv6 host and keeps a
  // non-default port.
  if (routeHost.empty() || routeHost.front() == '*') return target.authority();
  return routeHost;
}

std::string ProbeRequest::text(const TargetUrl& target, const HealthSpec& spec,
                               const std::string& routeHost, bool keepAlive) {
  return "GET " + path(target, spec) + " HTTP/1.1\r\nHost: " + host(target, routeHost) +
         "\r\nUser-Agent: portico-health\r\nAccept: */*\r\n" +
         (keepAlive ? "" : "Connection: close\r\n") + "\r\n";
}

ProbeResult ProbeRequest::verdict(int status) {
  if (status >= 200 && status < 400) return ProbeResult::success();
  return ProbeResult::failure("http: status " + std::to_string(status));
}

ProbeResult ProbeRequest::timedOut(const HealthSpec& spec) {
  return ProbeResult::failure("timeout after " + formatDuration(spec.timeout));
}

}  // namespace portico
