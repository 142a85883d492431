#pragma once

#include <cstddef>
#include <memory>

#include "loop/UpstreamChannel.h"
#include "net/Buffer.h"
#include "net/Outbox.h"
#include "net/Stream.h"

namespace portico {

class ProxyLoop;

/// After a 101 (a WebSocket upgrade): bytes relayed both ways between a client connection and
/// the target's channel. Each side reads only while the other can take its bytes, and each
/// side's end is passed on as a half-close once everything before it went through; the relay
/// ends when both sides have ended or either fails. The client connection keeps its own
/// buffers, timers and readiness; the relay owns the target's channel.
class WebSocketRelay {
 public:
  /// What one turn left for the client side to arrange.
  struct Turn {
    bool ended{false};             // both sides ended, or one failed: close the connection
    bool clientBlocked{false};     // the client did not take everything: wait to write
    bool targetBacklogged{false};  // the target did not take everything: stop reading the client
    std::size_t toClient{0};       // bytes of the target's passed to the client this turn
  };

  explicit WebSocketRelay(ProxyLoop& loop) : loop_(loop) {}
  ~WebSocketRelay() { stop(); }
  WebSocketRelay(const WebSocketRelay&) = delete;
  WebSocketRelay& operator=(const WebSocketRelay&) = delete;

  /// Takes the target's connection; its events go to `owner` (which calls pump()).
  void start(std::unique_ptr<UpstreamChannel> channel, UpstreamChannel::Owner& owner);
  bool active() const { return channel_ != nullptr; }
  /// Moves what each side has for the other. `fromClient`: the client's unread input (null when
  /// it holds no buffer); `clientEnded`: the client half-closed.
  Turn pump(net::Buffer* fromClient, net::Outbox& toClient, net::Stream& client, bool clientEnded);
  /// Aborts the target's connection and gives it back to the loop.
  void stop();

 private:
  ProxyLoop& loop_;
  std::unique_ptr<UpstreamChannel> channel_;
  bool clientEof_{false};  // the client's end was passed on to the target
  bool targetEof_{false};  // the target's end was passed on to the client
};

}  // namespace portico
