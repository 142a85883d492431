#pragma once

#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace portico {

/// Literal edits of one direction's headers (`requestHeaders` / `responseHeaders`): `remove`
/// drops every header of those names, `set` replaces (drops, then adds once), `add` appends
/// beside what is there. Names keep the case they were given; matching ignores it.
struct HeaderEdits {
  std::vector<std::pair<std::string, std::string>> set;  // in name order
  std::vector<std::pair<std::string, std::string>> add;  // in name order
  std::vector<std::string> remove;                       // in the order given

  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
  bool operator==(const HeaderEdits& o) const;
};

/// A route's own upstream timeouts; zero means the proxy's (proxy.connect_timeout,
/// proxy.read_timeout, proxy.send_timeout).
struct RouteTimeouts {
  std::chrono::milliseconds connect{0};
  std::chrono::milliseconds read{0};
  std::chrono::milliseconds send{0};

  bool operator==(const RouteTimeouts& o) const;
};

/// What a route does to the request on its way to a target and to the response on its way
/// back, as an nginx `location` can (issue #19, point 4). A default-constructed policy is the
/// seed's behaviour: the prefix stripped, the client's Host kept, headers untouched, the proxy's
/// timeouts, no body limit.
///
/// Body fields: stripPrefix, rewritePrefix, preserveHost, requestHeaders, responseHeaders,
/// timeouts, maxBodySize (docs/traffic.md "Route policies").
struct RequestPolicy {
  bool stripPrefix{true};
  /// Replaces the matched prefix ("/v2/", normalised with its trailing slash); "" for none.
  std::string rewritePrefix;
  /// False: the target's host[:port] is sent as Host (nginx's default `$proxy_host`).
  bool preserveHost{true};
  HeaderEdits requestHeaders;
  HeaderEdits responseHeaders;
  RouteTimeouts timeouts;
  /// The largest request body in bytes (then 413); 0 for no limit.
  std::uint64_t maxBodySize{0};

  static const std::set<std::string>& fields();
  /// Applies the fields present in `body` over the current values; InvalidInput naming the
  /// field ("requestHeaders.set.Connection") for anything refused.
  void read(const Poco::JSON::Object& body);
  void write(Poco::JSON::Object& out) const;

  bool operator==(const RequestPolicy& o) const;
  bool operator!=(const RequestPolicy& o) const { return !(*this == o); }
};

/// Why a header may not be edited in `direction` ("requestHeaders" or "responseHeaders"), or ""
/// when it may. Hop-by-hop and framing headers never; on requests also Host (that is
/// preserveHost) and the headers the proxy computes itself (X-Forwarded-*, X-Origin-Host,
/// X-Request-Id, Expect). Config and API share this rule.
std::string refusedHeaderEdit(const std::string& direction, const std::string& name);

/// Throws InvalidInput naming `field` for a value that cannot travel in a header line (CR, LF,
/// NUL or another control character besides tab).
void checkHeaderValue(const std::string& field, const std::string& value);

/// `rewritePrefix` normalised ("v2" -> "/v2/"); InvalidInput naming the field.
std::string normalizeRewritePrefix(const std::string& raw);

}  // namespace portico
