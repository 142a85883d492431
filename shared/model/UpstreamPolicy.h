#pragma once

#include <Poco/JSON/Object.h>

#include <set>
#include <string>
#include <string_view>

namespace portico {

/// How the proxy speaks to a route's targets (route field `upstreamProtocol`, configuration key
/// `route.NAME.upstream_protocol`). A RoutePolicies member.
struct UpstreamPolicy {
  enum class Protocol {
    Http11,  // "http/1.1": HTTP/1.1 to every target (the default, as before)
    H2,      // "h2": HTTP/2 to every target: prior knowledge to http://, ALPN h2 to https://
    Auto,    // "auto": https:// targets whatever ALPN picks (h2 first); http:// ones HTTP/1.1
  };
  Protocol protocol{Protocol::Http11};

  /// Whether a target of `https` scheme or not is spoken to in HTTP/2 (Auto over TLS: offered,
  /// ALPN decides).
  bool http2For(bool https) const {
    return protocol == Protocol::H2 || (protocol == Protocol::Auto && https);
  }

  static const std::set<std::string>& fields();
  void read(const Poco::JSON::Object& body);
  void write(Poco::JSON::Object& out) const;
  bool operator==(const UpstreamPolicy& o) const { return protocol == o.protocol; }
};

/// "http/1.1", "h2" or "auto".
std::string_view upstreamProtocolName(UpstreamPolicy::Protocol protocol);
/// The inverse; throws InvalidInput ("'x' is not one of http/1.1, h2, auto") for another text.
UpstreamPolicy::Protocol parseUpstreamProtocol(std::string_view text);

}  // namespace portico
