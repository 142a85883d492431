#pragma once

namespace portico {

/// The timing and flow rules of one client connection, kept apart from its I/O so that they can
/// be tested with a fake clock: which of the client timeouts runs — nginx's
/// client_header_timeout, client_body_timeout, send_timeout, keepalive_timeout, plus the
/// lingering close and a tunnel's idle time — and whether the connection reads or waits to
/// write. The proxy's ClientConnection and the admin listener's HttpServerConnection report what
/// happens and apply what this class says (one set of rules for both listeners): no threads, no
/// clock, no I/O here.
class ClientPhase {
 public:
  enum class Timeout { None, Header, Body, Send, KeepAlive, Linger, Tunnel };

  /// A new connection: its first request head must arrive within the header timeout, counted
  /// from the accept.
  ClientPhase() = default;

  // Reading a request.
  /// The first bytes of a request head. On a kept-alive connection the header timeout starts
  /// now; on a new one it has been running since the accept. Either way it bounds the whole
  /// head, not each byte, so a client dripping a byte at a time cannot hold the connection.
  void headStarted();
  /// The head is in. `requestComplete`: the request has no body.
  void headComplete(bool requestComplete);
  /// The target takes the body: the body timeout bounds the gap between two reads of it.
  void bodyWanted();
  void bodyProgress();
  /// The target cannot take more of the body now: the client is not to blame, no timeout runs
  /// on its side (the target's side is timed).
  void bodyBacklogged();
  void requestComplete();

  // Writing the response.
  /// The client does not take what is written: the send timeout bounds the gap between writes.
  void writeBlocked();
  void writeProgress();
  void writeDrained();
  /// The response is out and the connection stays: the keep-alive timeout runs.
  void responseDone();

  // Input and the peer.
  /// The input buffer is full (pipelined requests, or body bytes the target cannot take yet):
  /// stop reading until there is room, so a client costs at most one buffer.
  void inputFull(bool full);
  void peerClosed();

  // Endings.
  /// Half-closed after an answer that left the request unread: what the client still sends is
  /// read and dropped, for a limited time.
  void lingering();
  /// After a 101: bytes flow both ways; each transfer starts the idle time over.
  void tunnel();
  void tunnelActivity();

  /// The timeout that runs now.
  Timeout timeout() const;
  /// True (once) when the last events started the running timeout over: the caller arms it
  /// anew even if it is of the same kind.
  bool takeRestart() {
    const bool r = restart_;
    restart_ = false;
    return r;
  }
  bool reading() const { return !peerClosed_ && !inputFull_; }
  bool writing() const { return writeBlocked_; }

 private:
  enum class Stage { Waiting, Head, Request, Body, Backlogged, Complete, Lingering, Tunnel };

  Stage stage_{Stage::Waiting};
  bool first_{true};  // no request yet on this connection
  bool writeBlocked_{false};
  bool inputFull_{false};
  bool peerClosed_{false};
  bool restart_{true};
};

}  // namespace portico
