#include "forward/TrustedProxies.h"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <netinet/in.h>

#include <cstring>

#include "base/Errors.h"

namespace portico {
namespace {

using Poco::Net::IPAddress;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// "::ffff:10.0.0.1" seen on a dual-stack socket is the IPv4 client 10.0.0.1.
IPAddress unmapped(const IPAddress& a) {
  if (a.family() == IPAddress::IPv6 && a.isIPv4Mapped()) {
    const std::string text = a.toString();
    const auto colon = text.rfind(':');
    IPAddress v4;
    if (IPAddress::tryParse(text.substr(colon + 1), v4)) return v4;
  }
  return a;
}

/// The hops of an X-Forwarded-For value, left to right ("a, b , c" -> a, b, c).
std::vector<std::string_view> hops(std::string_view xff) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= xff.size()) {
    std::size_t end = xff.find(',', pos);
    if (end == std::string_view::npos) end = xff.size();
    const std::string_view hop = trim(xff.substr(pos, end - pos));
    if (!hop.empty()) out.push_back(hop);
    pos = end + 1;
  }
  return out;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
  for (const auto& raw : entries) {
    const std::string entry(trim(raw));
    if (entry.empty()) continue;
    const auto slash = entry.find('/');
    IPAddress address;
    if (!IPAddress::tryParse(entry.substr(0, slash), address))
      throw ConfigError("proxy.trusted_proxies",
                        "'" + entry + "' is not an IP address or CIDR block");
    address = unmapped(address);
    const unsigned full = address.family() == IPAddress::IPv4 ? 32 : 128;
    unsigned bits = full;
    if (slash != std::string::npos) {
      if (!Poco::NumberParser::tryParseUnsigned(entry.substr(slash + 1), bits) || bits > full)
        throw ConfigError("proxy.trusted_proxies", "'" + entry + "' has a bad prefix length");
    }
    const IPAddress mask(bits, address.family());
    blocks_.push_back({address & mask, mask});
    RawBlock block{address.family() == IPAddress::IPv4 ? AF_INET : AF_INET6, {}, {}};
    const IPAddress network = address & mask;
    std::memcpy(block.network.data(), network.addr(), network.length());
    std::memcpy(block.mask.data(), mask.addr(), mask.length());
    raw_.push_back(block);
  }
}

bool TrustedProxies::contains(const IPAddress& raw) const {
  const IPAddress address = unmapped(raw);
  for (const auto& b : blocks_) {
    if (b.network.family() == address.family() && (address & b.mask) == b.network) return true;
  }
  return false;
}

bool TrustedProxies::contains(const sockaddr& address) const {
  const std::uint8_t* bytes = nullptr;
  int family = address.sa_family;
  std::size_t length = 0;
  if (family == AF_INET) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in&>(address).sin_addr);
    length = 4;
  } else if (family == AF_INET6) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr);
    length = 16;
    // "::ffff:10.0.0.1" on a dual-stack socket is the IPv4 client 10.0.0.1.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, sizeof kMapped) == 0) {
      bytes += 12;
      length = 4;
      family = AF_INET;
    }
  } else {
    return false;
  }
  for (const auto& b : raw_) {
    if (b.family != family) continue;
    bool inside = true;
    for (std::size_t i = 0; i < length && inside; ++i)
      inside = (bytes[i] & b.mask[i]) == b.network[i];
    if (inside) return true;
  }
  return false;
}

bool TrustedProxies::contains(std::string_view text) const {
  if (blocks_.empty()) return false;
  IPAddress address;
  std::string s(trim(text));
  // "[::1]" and "1.2.3.4:5678" show up in some X-Forwarded-For chains.
  if (s.size() > 2 && s.front() == '[') s = s.substr(1, s.find(']') - 1);
  if (!IPAddress::tryParse(s, address)) {
    const auto colon = s.find(':');
    if (colon == std::string::npos || s.find(':', colon + 1) != std::string::npos) return false;
    if (!IPAddress::tryParse(s.substr(0, colon), address)) return false;
  }
  return contains(address);
}

std::string TrustedProxies::forwardedFor(std::string_view incoming, std::string_view peer) const {
  incoming = trim(incoming);
  if (incoming.empty() || !contains(peer)) return std::string(peer);
  std::string out;
  out.reserve(incoming.size() + 2 + peer.size());
  out.append(incoming).append(", ").append(peer);
  return out;
}

std::string TrustedProxies::clientAddress(std::string_view incoming, std::string_view peer) const {
  if (!contains(peer)) return std::string(peer);
  const auto chain = hops(incoming);
  if (chain.empty()) return std::string(peer);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (!contains(*it)) return std::string(*it);
  }
  return std::string(chain.front());
}

}  // namespace portico
