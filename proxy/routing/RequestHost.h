#pragma once

#include <string>
#include <string_view>

namespace portico {

/// The host a request is routed by, from its Host header (HTTP/1.1), its :authority (HTTP/2) or
/// the authority of an absolute-form target (which RFC 9112 3.2.2 says wins over Host):
/// lowercased, the port and one trailing dot removed ("API.Example.com.:8443" ->
/// "api.example.com", "[::1]:80" -> "[::1]"). Pure logic.
class RequestHost {
 public:
  /// `raw` normalised; a view into `raw` when it needs no change, else into `scratch` (so the
  /// usual lowercase Host costs no allocation). "" for an empty or unusable value.
  static std::string_view of(std::string_view raw, std::string& scratch);
  /// The authority of an absolute-form target ("http://h:1/a" -> "h:1"); "" for other forms.
  static std::string_view authorityOf(std::string_view target);
};

}  // namespace portico
