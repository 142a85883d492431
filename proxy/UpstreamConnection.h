#pragma once

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <string>
#include <string_view>

#include "Normalize.h"
#include "Tls.h"

namespace portico {

/// Timeouts of every upstream connection (`proxy.connect_timeout`, `proxy.read_timeout`).
struct UpstreamTimeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds read{30000};
};

/// One blocking keep-alive connection to a target, for the module's handler (which runs on its
/// host server's threads). Connecting is a separate step so that a refused or timed-out
/// connect (nothing sent, safe to try another target) is told apart from a later failure.
class UpstreamConnection {
 public:
  /// `tls`: how an https target is spoken to (null: https targets cannot be reached).
  UpstreamConnection(const TargetUrl& url, const UpstreamTimeouts& timeouts,
                     const net::TlsClientConfig* tls = nullptr);

  /// Connects now (and, to an https target, completes the TLS handshake); throws the POCO
  /// network exception (refused, timeout, unknown host...) or std::runtime_error for a failed
  /// handshake.
  void open();
  /// Through TLS: the socket alone cannot carry its bytes (a WebSocket relay needs both).
  bool tls() const { return ssl_ != nullptr; }
  /// Writes all of `bytes`; false when the target is gone (`error()` says why).
  bool sendAll(std::string_view bytes);
  /// One receive: > 0 bytes, 0 at the end of the stream, < 0 on failure (`timedOut()` tells a
  /// read timeout from a reset).
  int receive(char* buffer, std::size_t capacity);
  bool timedOut() const { return timedOut_; }
  const std::string& error() const { return error_; }

  Poco::Net::StreamSocket& socket() { return socket_; }

  /// True when the connection came from the pool (it may have been closed by the backend).
  bool reused() const { return reused_; }
  void markReused() { reused_ = true; }
  /// When it was last handed back to the pool.
  std::chrono::steady_clock::time_point idleSince() const { return idleSince_; }
  void markIdle() { idleSince_ = std::chrono::steady_clock::now(); }
  /// True when an idle connection looks unusable: the backend closed it or sent something.
  bool looksStale();

 private:
  int sendSome(const char* data, std::size_t size);
  int receiveSome(char* buffer, std::size_t capacity);

 private:
  const TargetUrl& url_;
  UpstreamTimeouts timeouts_;
  Poco::Net::StreamSocket socket_;
  const net::TlsClientConfig* tlsConfig_;
  net::SslPtr ssl_;
  bool reused_{false};
  bool timedOut_{false};
  std::string error_;
  std::chrono::steady_clock::time_point idleSince_{};
};

}  // namespace portico
