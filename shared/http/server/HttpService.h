#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::http {

/// A whole request as a service behind HttpServer sees it: the head copied out of the
/// connection's buffer and the body read in full (de-chunked), within the server's limits.
struct ServerRequest {
  std::string method;
  std::string target;  // the request target as received
  int versionMinor{1};
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as received
  std::string body;
  std::string peer;  // the client's numeric address

  /// Every value of header `name` (any case) in order, joined with ", " (RFC 9110 5.3); nothing
  /// when there is none.
  std::optional<std::string> header(std::string_view name) const;
};

/// The answer to one request. The server adds Date, Server, Content-Length and Connection.
struct ServerResponse {
  int status{200};
  std::string contentType{"application/json"};
  std::vector<std::pair<std::string, std::string>> headers;  // any more
  std::string body;
  bool close{false};  // close the connection after this answer

  /// `status` with the JSON body {"error":"<message>"} (escaped, valid UTF-8 whatever
  /// `message` holds).
  static ServerResponse error(int status, std::string_view message);
};

/// What HttpServer serves: it calls handle() with each complete request on a worker thread, so
/// a service may block (on a store, a lock) without holding up the connections of other clients.
class HttpService {
 public:
  virtual ~HttpService() = default;

  /// A complete request. On a worker thread; may block. An exception becomes a 500.
  virtual ServerResponse handle(const ServerRequest& request) = 0;

  /// A request the server refuses once its head is in (ambiguous framing, a body over the limit
  /// or cut short or too slow, an unmet Expect): `answer` is the server's JSON error, sent with
  /// the connection closed after it. On a worker thread: the service may add headers to it or
  /// count it. `request` has no body.
  virtual ServerResponse refused(const ServerRequest& request, ServerResponse answer) {
    (void)request;
    return answer;
  }

  /// A request refused before its head was complete (malformed, too large, too slow): `status`
  /// is what the server answers. On the server's event-loop thread, so it must not block (count
  /// it, nothing more).
  virtual void refusedUnparsed(int status) { (void)status; }
};

}  // namespace portico::http
