#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace portico::ctl {

/// What the sidecar answered.
struct ApiReply {
  int status = 0;
  std::string body;
  std::string etag;  // the store revision the answer reflects, quotes included ("" if none)
};

/// No answer from the sidecar: refused, reset, timed out, unresolvable (exit 4).
class SidecarUnreachable : public std::runtime_error {
 public:
  explicit SidecarUnreachable(const std::string& message) : std::runtime_error(message) {}
};

/// An answer that is not a success; `exitCode()` is what portico-ctl exits with and `what()`
/// the API's "error" message.
class ApiFailure : public std::runtime_error {
 public:
  ApiFailure(int exitCode, const std::string& message)
      : std::runtime_error(message), exitCode_(exitCode) {}
  int exitCode() const { return exitCode_; }

 private:
  int exitCode_;
};

/// The exit code for an HTTP status: 0 for 2xx, 3 for a conflict (409, 412), else 1.
int exitCodeFor(int status);

/// The "error" of a JSON error answer, else its body (or its status when empty).
std::string errorMessage(const ApiReply& reply);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// "?a=1&b=x%2Fy" from the pairs whose value is not empty ("" when none is).
std::string queryString(const QueryParams& params);

/// The admin API over HTTP/1.1 (POCO), one connection per call; `Authorization: Bearer` when a
/// token is given.
class ApiClient {
 public:
  ApiClient(const std::string& server, std::string token);

  /// One exchange. Throws SidecarUnreachable when no answer came.
  ApiReply call(const std::string& method, const std::string& pathAndQuery,
                const std::string& body = "",
                const std::map<std::string, std::string>& headers = {}) const;

  /// call(), then ApiFailure unless the answer is a success.
  ApiReply expect(const std::string& method, const std::string& pathAndQuery,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) const;

 private:
  std::string host_;
  unsigned short port_;
  std::string token_;
};

}  // namespace portico::ctl
