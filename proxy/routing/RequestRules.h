#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/RequestPolicy.h"

namespace portico {

/// One direction's header edits as the request path applies them: the names whose headers are
/// dropped (remove and set, lower-cased) and the lines added after the rest (set and add),
/// both as a ready HTTP/1.1 block and as pairs for HTTP/2 and the module. Built once per route
/// when the table is built; applying it allocates nothing.
struct HeaderRules {
  std::vector<std::string> dropped;
  std::string lines;  // "Name: value\r\n" ...
  std::vector<std::pair<std::string, std::string>> added;

  static HeaderRules of(const HeaderEdits& edits);
  bool empty() const { return dropped.empty() && added.empty(); }
  /// True when a header named `name` (any case) is one these rules drop.
  bool drops(std::string_view name) const;
};

/// A route's RequestPolicy, precomputed for the request path (proxy/forward reads it from
/// Route::rules): what replaces the matched prefix, the Host rule, header edits, timeouts
/// (zero: the proxy's) and the body limit (zero: none).
struct RequestRules {
  /// Replaces the matched prefix minus its trailing slash: "" strips it (the default), the
  /// prefix's own key keeps it (stripPrefix false), a rewritePrefix's key rewrites it.
  std::string replacement;
  bool preserveHost{true};
  HeaderRules request;
  HeaderRules response;
  std::chrono::milliseconds connectTimeout{0};
  std::chrono::milliseconds readTimeout{0};
  std::chrono::milliseconds sendTimeout{0};
  std::uint64_t maxBodySize{0};

  static RequestRules of(const RequestPolicy& policy, std::string_view prefix);
  /// `timeout` when the route sets none.
  static std::chrono::milliseconds orDefault(std::chrono::milliseconds own,
                                             std::chrono::milliseconds proxy) {
    return own.count() > 0 ? own : proxy;
  }
};

}  // namespace portico
