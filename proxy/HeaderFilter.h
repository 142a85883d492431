#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace Poco::Net {
class NameValueCollection;
}

namespace portico {

/// Decides which headers of one message travel to the next hop: never the hop-by-hop ones
/// (Connection and every header it lists, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding,
/// Upgrade), nor the ones the proxy computes itself (given as `alsoDropped`).
class HeaderFilter {
 public:
  /// Reads the Connection header(s) of `message`. `alsoDropped` must outlive the filter.
  explicit HeaderFilter(const Poco::Net::NameValueCollection& message,
                        const std::vector<std::string_view>* alsoDropped = nullptr);

  /// True when a header named `name` (any case) may be forwarded.
  bool forwards(std::string_view name) const;

  /// The always hop-by-hop headers (not counting the ones Connection lists).
  static bool isHopByHop(std::string_view name);

  /// The lower-cased tokens of a Connection header value ("keep-alive, X-Foo" -> keep-alive,
  /// x-foo).
  static std::vector<std::string> connectionTokens(std::string_view value);

  /// Calls `f` with each item of a comma-separated header value, trimmed, empty ones skipped,
  /// as views into `value` (no allocation: framing headers are read on every request).
  template <class F>
  static void forEachListItem(std::string_view value, F&& f) {
    std::size_t pos = 0;
    while (pos <= value.size()) {
      std::size_t end = value.find(',', pos);
      if (end == std::string_view::npos) end = value.size();
      std::string_view item = value.substr(pos, end - pos);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) f(item);
      pos = end + 1;
    }
  }

  /// Copies what forwards() allows from `from` to `to` with add() (repeated headers stay repeated).
  void copy(const Poco::Net::NameValueCollection& from, Poco::Net::NameValueCollection& to) const;

 private:
  std::vector<std::string> listed_;  // lower-cased names listed in Connection
  const std::vector<std::string_view>* alsoDropped_;
};

/// ASCII case-insensitive equality of header names.
bool sameHeaderName(std::string_view a, std::string_view b);

}  // namespace portico
