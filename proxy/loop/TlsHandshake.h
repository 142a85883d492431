#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "loop/ClientSession.h"
#include "loop/ConnectionCount.h"
#include "net/EventLoop.h"
#include "net/Registration.h"
#include "net/Socket.h"
#include "net/Stream.h"
#include "net/TimerList.h"
#include "net/Tls.h"

namespace portico {

class ProxyLoop;

/// A connection accepted on the TLS listener, before any HTTP: the handshake runs within the
/// client header timeout (counted from the accept, like a first request head, as in nginx),
/// then the protocol ALPN chose decides who serves the connection — an Http2Connection for
/// "h2", a ClientConnection (HTTP/1.1) otherwise, which takes over the socket, the running
/// header timeout and the connection's place in the metrics. A failed handshake closes the
/// connection without a log line: scanners and clients that do not trust the certificate end
/// there (the metrics count closed connections).
class TlsHandshake final : public ClientSession,
                           public net::EventHandler,
                           public net::TimerHandler {
 public:
  TlsHandshake(ProxyLoop& loop, net::FileDescriptor fd, const sockaddr_storage& peer,
               net::SslPtr tls);
  ~TlsHandshake() override;
  TlsHandshake(const TlsHandshake&) = delete;
  TlsHandshake& operator=(const TlsHandshake&) = delete;

  /// Arms the header timeout and waits for the client's hello.
  void start();
  /// The proxy is stopping: no request has come yet, so the connection closes now.
  void drain() override { close(); }

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

 private:
  void advance();
  void handOver();
  void updateInterest();
  void close();

  ProxyLoop& loop_;
  net::Stream stream_;
  std::string peer_;
  bool peerTrusted_{false};
  ConnectionCount count_;
  net::Timer timer_;
  net::Registration registration_;  // stream_'s descriptor on the loop
  bool closed_{false};
};

}  // namespace portico
