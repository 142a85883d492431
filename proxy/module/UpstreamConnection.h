#pragma once

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <string>
#include <string_view>

#include "balance/PooledConnection.h"
#include "forward/UpstreamTimeouts.h"
#include "model/Normalize.h"
#include "net/Tls.h"

namespace portico {

/// One blocking keep-alive connection to a target, for the module's handler (which runs on its
/// host server's threads). Connecting is a separate step so that a refused or timed-out
/// connect (nothing sent, safe to try another target) is told apart from a later failure.
class UpstreamConnection : public PooledConnection {
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
  /// A pooled connection taken for a route whose read timeout changed since it was opened.
  void readTimeout(std::chrono::milliseconds timeout);
  const std::string& error() const { return error_; }

  Poco::Net::StreamSocket& socket() { return socket_; }

  /// True when an idle connection looks unusable: the backend closed it or sent something.
  bool looksStale() override;

 private:
  int sendSome(const char* data, std::size_t size);
  int receiveSome(char* buffer, std::size_t capacity);
  /// From inside a catch block: the I/O exception being handled into error_ (and timedOut_).
  void noteFailure();

 private:
  const TargetUrl& url_;
  UpstreamTimeouts timeouts_;
  Poco::Net::StreamSocket socket_;
  const net::TlsClientConfig* tlsConfig_;
  net::SslPtr ssl_;
  bool timedOut_{false};
  std::string error_;
};

}  // namespace portico
