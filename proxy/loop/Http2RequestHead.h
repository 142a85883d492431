#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/HttpHead.h"

namespace portico {

/// An HTTP/2 request's decoded header fields, turned into the HTTP/1.1 head its target gets:
/// pseudo-headers become the request line and Host, split cookies are joined again (RFC 9113
/// 8.2.3), a body of unknown length goes chunked (as nginx sends it). The header list is held to
/// `maxListBytes`, counted as RFC 9113 6.5.2 counts SETTINGS_MAX_HEADER_LIST_SIZE (name + value
/// + 32 per field): past it the fields are no longer kept, and the request is refused with 431.
/// The fields go straight into the head's own storage as they are decoded, and clear() keeps
/// its capacity, so a head reused for the connection's next stream allocates nothing (the
/// HTTP/2 profile of issue 21 showed seven allocations per request for strings and vectors
/// copied once into this class and once more into the head). Pure logic, no I/O.
class Http2RequestHead {
 public:
  explicit Http2RequestHead(std::size_t maxListBytes) : maxListBytes_(maxListBytes) {}

  /// One decoded field, in the order received.
  void add(std::string_view name, std::string_view value);
  /// The header block is complete; `endStream`: no body follows.
  void finish(bool endStream);
  /// Forgets the request (for the next stream), keeping the storage.
  void clear();

  /// The list went over the limit (the head is then incomplete: answer 431, never forward).
  bool tooLarge() const { return listBytes_ > maxListBytes_; }
  /// Nothing of a request line arrived (for the access log: no head to show).
  bool empty() const { return path_.length == 0 && head_.fieldCount() == 0; }
  http::HttpHead& head() { return head_; }
  const http::HttpHead& head() const { return head_; }

 private:
  std::size_t maxListBytes_;
  std::size_t listBytes_{0};
  // Pseudo-header values, in the head's own storage.
  http::HttpHead::Span method_, path_, authority_;
  std::string cookies_;
  bool hasHost_{false};
  bool hasLength_{false};
  http::HttpHead head_;
};

}  // namespace portico
