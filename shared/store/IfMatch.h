#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico {

/// The `If-Match` precondition of an admin write (RFC 9110 13.1.1) against the store's ETags,
/// which are revisions (`"12"`). Strong comparison: a weak tag (`W/"12"`) or one that is not a
/// revision never matches. No header, like `*`, allows any revision.
class IfMatch {
 public:
  /// No precondition.
  IfMatch() = default;
  /// Parses a header value: `*` or a comma-separated list of entity tags. Throws InvalidInput
  /// for a value that is not one (an unquoted revision, say), naming the header.
  static IfMatch parse(std::string_view header);

  /// False for no header or `*`: the write goes ahead whatever the revision.
  bool constrains() const { return constrains_; }
  bool matches(std::int64_t revision) const;
  /// The header as given, for error messages.
  const std::string& text() const { return text_; }

 private:
  bool constrains_{false};
  std::vector<std::int64_t> revisions_;  // the strong, numeric tags listed
  std::string text_;
};

}  // namespace portico
