#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loop/ClientSession.h"
#include "net/Buffer.h"
#include "net/EventLoop.h"
#include "net/IntrusiveList.h"
#include "net/Outbox.h"
#include "net/Stream.h"
#include "net/TimerList.h"

struct nghttp2_session;

namespace portico {

class ProxyLoop;
class Http2Stream;

/// One client's HTTP/2 connection (ALPN "h2" on the TLS listener). nghttp2 does the framing,
/// HPACK, flow control and the protocol's limits (128 concurrent streams, the header list size,
/// the reset and CONTINUATION flood guards); each stream becomes an Exchange through the same
/// forwarding policy as an HTTP/1.1 request, with back-pressure both ways through the flow
/// control windows.
class Http2Connection final : public ClientSession,
                              public net::EventHandler,
                              public net::TimerHandler {
 public:
  /// `stream`: the TLS connection, handshake done. Takes the place of the HTTP/1.1 connection
  /// that negotiated it (the loop owns it from then on).
  Http2Connection(ProxyLoop& loop, net::Stream stream, std::string peer, bool peerTrusted);
  ~Http2Connection() override;
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  /// Sends the server's SETTINGS and waits for the client's preface. False when nghttp2 could
  /// not be set up (the connection is closed then).
  bool start();
  /// The proxy is stopping: GOAWAY, streams in flight finish, then the connection closes.
  void drain() override;

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

  // For its streams.
  ProxyLoop& loop() { return loop_; }
  nghttp2_session* session() { return session_; }
  const std::string& peer() const { return peer_; }
  bool peerTrusted() const { return peerTrusted_; }
  /// Writes what nghttp2 has to send (after a stream queued a response or data).
  void pump();
  void streamClosed(std::int32_t id);

 private:
  struct Callbacks;
  friend struct Callbacks;
  enum Tag { kIdle, kSend };

  void readInput();
  void updateInterest();
  void armTimer();
  void close();

  ProxyLoop& loop_;
  net::Stream stream_;
  std::string peer_;
  bool peerTrusted_;
  nghttp2_session* session_{nullptr};
  net::Outbox out_;
  net::Timer timer_;
  std::map<std::int32_t, std::unique_ptr<Http2Stream>> streams_;
  // Streams closed while one of their own methods may be on the stack: released on the next
  // event of the connection (or with it).
  std::vector<std::unique_ptr<Http2Stream>> closedStreams_;
  std::uint32_t interest_{0};
  bool registered_{false};
  bool writeBlocked_{false};
  bool closed_{false};
  bool draining_{false};
  bool pumping_{false};
};

}  // namespace portico
