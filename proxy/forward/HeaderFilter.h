#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/HttpHead.h"

namespace portico {

/// Decides which headers of one message travel to the next hop: never the hop-by-hop ones
/// (Connection and every header it lists, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding,
/// Upgrade), nor the ones the proxy computes itself (given as `alsoDropped`). Runs on every
/// request: the names Connection lists are kept as views into the message, not copied.
class HeaderFilter {
 public:
  /// Reads the Connection header(s) of `message`, which must outlive the filter, as must
  /// `alsoDropped`.
  explicit HeaderFilter(const http::HttpHead& message,
                        const std::vector<http::KnownHeader>* alsoDropped = nullptr);

  /// True when a header named `name` (any case) may be forwarded.
  bool forwards(std::string_view name) const;

  /// Calls f(name, value) for every header of the filter's message that may be forwarded, in
  /// order (repeated headers stay repeated).
  template <class F>
  void forEachForwarded(F&& f) const {
    for (std::size_t i = 0; i < message_.fieldCount(); ++i) {
      if (forwards(message_.known(i), message_.name(i))) f(message_.name(i), message_.value(i));
    }
  }

  /// The always hop-by-hop headers (not counting the ones Connection lists).
  static bool isHopByHop(std::string_view name);
  static bool isHopByHop(http::KnownHeader known);

  /// The lower-cased tokens of a Connection header value ("keep-alive, X-Foo" -> keep-alive,
  /// x-foo).
  static std::vector<std::string> connectionTokens(std::string_view value);

  /// True when the Connection header(s) of `message` list `token` (any case).
  static bool listsToken(const http::HttpHead& message, std::string_view token);

 private:
  static constexpr std::size_t kInline = 8;

  bool forwards(http::KnownHeader known, std::string_view name) const;

  const http::HttpHead& message_;
  std::string_view listed_[kInline];  // names listed in Connection (views into message_)
  std::size_t listedCount_{0};
  std::vector<std::string_view> moreListed_;
  const std::vector<http::KnownHeader>* alsoDropped_;
};

}  // namespace portico
