#pragma once

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace portico {

/// Relays bytes both ways between a client and an upstream after a 101 Switching Protocols,
/// on the calling thread, until both sides have closed (a side's EOF is passed on as a
/// half-close), either fails, or nothing moves for `idleTimeout`.
class WebSocketTunnel {
 public:
  WebSocketTunnel(const Poco::Net::StreamSocket& client, const Poco::Net::StreamSocket& upstream,
                  std::chrono::milliseconds idleTimeout);

  /// `toUpstream`/`toClient`: bytes already read past the HTTP headers on either side.
  /// Returns the bytes relayed to the client.
  std::uint64_t run(const std::string& toUpstream, const std::string& toClient);

 private:
  Poco::Net::StreamSocket client_;
  Poco::Net::StreamSocket upstream_;
  std::chrono::milliseconds idleTimeout_;
};

}  // namespace portico
