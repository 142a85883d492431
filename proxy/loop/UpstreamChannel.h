#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/Buffer.h"
#include "net/EventLoop.h"
#include "net/IntrusiveList.h"
#include "net/Outbox.h"
#include "net/Registration.h"
#include "net/Releasable.h"
#include "net/Stream.h"
#include "net/TimerList.h"
#include "net/Tls.h"

namespace portico {

class ProxyLoop;
struct TargetState;

/// One event loop's connection to a target: connecting, writing a request, reading a response,
/// then resting in the loop's idle pool for the target until the next request takes it (most
/// recently used first) or it ages out. An idle connection stays registered for reading, so a
/// target that closes it is noticed at once and the connection dropped: a request never starts
/// on a connection known to be dead. Only the loop's thread touches it.
class UpstreamChannel final : public net::EventHandler,
                              public net::TimerHandler,
                              public net::Releasable {
 public:
  /// Handshake: the TLS handshake with an https target failed (the error says why, e.g. its
  /// certificate did not verify); like a refused connect, the request may go elsewhere.
  enum class Failure { ConnectRefused, ConnectTimeout, Handshake, Reset, ReadTimeout };

  /// Whoever uses the channel now (an exchange, a WebSocket relay).
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void upstreamConnected() = 0;
    /// Bytes arrived in input(), or the target closed (closedByPeer()).
    virtual void upstreamReadable() = 0;
    /// What was waiting in outbox() has gone out.
    virtual void upstreamDrained() = 0;
    virtual void upstreamFailed(Failure failure, const std::string& error) = 0;
  };

  UpstreamChannel(ProxyLoop& loop, std::shared_ptr<TargetState> target);
  ~UpstreamChannel() override;
  UpstreamChannel(const UpstreamChannel&) = delete;
  UpstreamChannel& operator=(const UpstreamChannel&) = delete;

  /// Starts connecting (and, to an https target, the TLS handshake); upstreamConnected() or
  /// upstreamFailed() follows (possibly at once).
  /// `connectTimers`: the loop's list of the route's connect timeout (the dial and the TLS
  /// handshake each get it).
  void connect(Owner& owner, net::TimerList& connectTimers);
  /// What the TLS handshake offers by ALPN (before connect(); HTTP/1.1 unless told).
  void offer(net::ClientAlpn alpn) { alpn_ = alpn; }
  /// The protocol ALPN settled on ("h2", "http/1.1"; empty in the clear or when none was).
  std::string_view protocol() const;
  /// A pooled connection for `target` that is still open, most recently used first, or null.
  static std::unique_ptr<UpstreamChannel> takeIdle(ProxyLoop& loop, TargetState& target);
  /// Hands a channel from the pool (or another owner) to `owner`.
  void adopt(Owner& owner);
  /// Back to the loop's idle pool (the last exchange on it completed cleanly).
  static void park(std::unique_ptr<UpstreamChannel> channel);
  /// Closes every idle connection `loop` keeps to `target`.
  static void closeIdle(ProxyLoop& loop, TargetState& target);

  bool reused() const { return reused_; }
  bool connected() const { return connected_; }
  /// The connection resumed an earlier TLS session with the target (false in the clear).
  bool resumedTls() const;
  bool closedByPeer() const { return peerClosed_; }
  TargetState& target() const { return *target_; }
  const std::shared_ptr<TargetState>& targetHandle() const { return target_; }
  /// Spoken over TLS (an https target).
  bool tls() const { return stream_.tls(); }

  net::Buffer& input();  // taken from the loop's pool on first use
  net::Outbox& outbox() { return out_; }
  /// Writes what waits in outbox(): Ok (all gone), Again (the target is backed up;
  /// upstreamDrained() follows) or Failed (the target is gone; the caller handles it).
  net::Io flush();
  /// Stop or resume reading (back-pressure from a slow client).
  void pauseReading(bool paused);
  /// Sends FIN (a WebSocket client half-closed).
  void shutdownWrite() { stream_.shutdownWrite(); }
  /// Closes with RST: the target must not take a cut-off request as complete.
  void abort();
  /// Closes (a clean end) and detaches from its owner: no event reaches anyone any more.
  void close() { closeNow(); }
  /// (Re)starts the read timeout (waiting for the response, or between its reads).
  /// `readTimers`: the loop's list of the route's read timeout.
  void armReadTimeout(net::TimerList& readTimers);
  void cancelTimer() { timer_.cancel(); }

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

 private:
  enum Tag { kConnect, kRead, kIdle };
  void connectedTcp();
  void continueHandshake();
  void established();
  void readInput();
  void keepTlsSession();
  bool idleStillUsable();
  void updateInterest();
  void closeNow();
  void leaveIdle();  // out of its target's idle list, if it is in it (counted there)
  void fail(Failure failure, const std::string& error);

  ProxyLoop& loop_;
  std::shared_ptr<TargetState> target_;
  Owner* owner_{nullptr};
  net::Stream stream_;
  std::unique_ptr<net::Buffer> in_;
  net::Outbox out_;
  net::Timer timer_;
  net::TimerList* connectTimers_{nullptr};  // given to connect()
  net::ClientAlpn alpn_{net::ClientAlpn::Http11};
  net::ListNode idleNode_;  // in target.idle[loop] while parked
  // Expires with the channel: a task posted to the loop checks it first (made on first need).
  std::shared_ptr<char> alive_;
  static constexpr std::size_t kMaxIdle = 1024;  // per target and loop
  net::Registration registration_;               // stream_'s descriptor on the loop
  bool connected_{false};  // ready for HTTP: TCP up and, for https, the handshake done
  bool handshaking_{false};
  bool sessionKept_{false};
  bool reused_{false};
  bool readingPaused_{false};
  bool writeBlocked_{false};
  bool peerClosed_{false};
  bool closed_{false};

  friend struct UpstreamIdle;
};

}  // namespace portico
