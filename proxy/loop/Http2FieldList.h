#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico {

/// The header fields of one HEADERS frame the proxy sends, in the form nghttp2 takes them
/// (nghttp2_nv). One list serves every response of a connection: its storage keeps its capacity,
/// so building a response head allocates nothing once the connection has answered a few (the
/// HTTP/2 profile of issue 21 showed six allocations per response for a vector of strings, one
/// string per lowercased name and the nghttp2_nv array). nghttp2 copies the fields when the
/// frame is submitted, so the list may be cleared right after. Pure logic, no I/O.
class Http2FieldList {
 public:
  /// Forgets the fields, keeping the storage.
  void clear();
  /// Appends a field as given.
  void add(std::string_view name, std::string_view value);
  /// Appends a field whose name comes from HTTP/1.1 (any case): HTTP/2 names are lowercase
  /// (RFC 9113 8.2.1).
  void addLowercased(std::string_view name, std::string_view value);

  std::size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  std::string_view name(std::size_t i) const;
  std::string_view value(std::size_t i) const;
  /// The fields for nghttp2, valid until the list changes.
  const nghttp2_nv* nva();

 private:
  struct Span {
    std::size_t name;  // offset into bytes_; the value follows the name
    std::size_t nameLength;
    std::size_t valueLength;
  };
  std::size_t append(std::string_view name, std::string_view value);

  std::string bytes_;
  std::vector<Span> spans_;
  std::vector<nghttp2_nv> nva_;
};

}  // namespace portico
