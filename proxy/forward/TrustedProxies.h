#pragma once

#include <Poco/Net/IPAddress.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico {

/// The peers whose X-Forwarded-For is believed (`proxy.trusted_proxies`: addresses or CIDR
/// blocks), and the forwarding rules that follow from it.
class TrustedProxies {
 public:
  /// Throws ConfigError (key proxy.trusted_proxies) for an entry that is not an address or CIDR.
  explicit TrustedProxies(const std::vector<std::string>& entries);

  bool contains(const Poco::Net::IPAddress& address) const;
  /// A connection's peer as accept() gave it, without parsing text (once per connection).
  bool contains(const sockaddr& address) const;
  /// False for anything that does not parse as an address.
  bool contains(std::string_view address) const;

  /// The X-Forwarded-For to send upstream: the incoming value with the peer appended when the
  /// peer is trusted, else the peer alone (a client cannot forge its own chain).
  std::string forwardedFor(std::string_view incoming, std::string_view peer) const;

  /// The real client's address: the right-most untrusted hop of the incoming X-Forwarded-For
  /// when the peer is trusted (the left-most hop if all are trusted), else the peer.
  std::string clientAddress(std::string_view incoming, std::string_view peer) const;

 private:
  struct Block {
    Poco::Net::IPAddress network;
    Poco::Net::IPAddress mask;
  };
  std::vector<Block> blocks_;
  // The same blocks as raw network-order bytes, for contains(sockaddr).
  struct RawBlock {
    int family;
    std::array<std::uint8_t, 16> network;
    std::array<std::uint8_t, 16> mask;
  };
  std::vector<RawBlock> raw_;
};

}  // namespace portico
