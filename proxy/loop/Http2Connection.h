#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loop/CertificateCover.h"
#include "loop/ClientSession.h"
#include "loop/ConnectionCount.h"
#include "loop/DeferredWrites.h"
#include "loop/Http2FieldList.h"
#include "loop/Http2RequestHead.h"
#include "loop/SparePool.h"
#include "net/Buffer.h"
#include "net/EventLoop.h"
#include "net/IntrusiveList.h"
#include "net/Outbox.h"
#include "net/Registration.h"
#include "net/Stream.h"
#include "net/TimerList.h"

struct nghttp2_session;

namespace portico {

class ProxyLoop;
class Http2Stream;

/// One client's HTTP/2 connection: ALPN "h2" on the TLS listener, or the connection preface with
/// prior knowledge on the plain one (h2c, RFC 9113 3.3). nghttp2 does the framing,
/// HPACK, flow control and its flood guards (rapid reset, CONTINUATION, SETTINGS); the
/// connection adds what nghttp2 leaves to it: streams over the 128 it advertises refused one by
/// one (REFUSED_STREAM, never the whole connection), a GOAWAY for floods of empty DATA frames,
/// and a bounded amount of input per turn of the loop. Each stream (Http2Stream) becomes an
/// Exchange through the same forwarding policy as an HTTP/1.1 request, with back-pressure both
/// ways through the flow control windows and HTTP/1.1's client timeouts per stream.
class Http2Connection final : public ClientSession,
                              public net::EventHandler,
                              public net::TimerHandler,
                              public DeferredWrites::Writer {
 public:
  /// `stream`: the TLS connection, handshake done and "h2" chosen by ALPN (TlsHandshake hands
  /// it over), or a plain one whose first bytes were the preface (ClientConnection); the loop
  /// owns the connection from then on, and `count` keeps it in the open-connections gauge.
  Http2Connection(ProxyLoop& loop, net::Stream stream, std::string peer, bool peerTrusted,
                  ConnectionCount count);
  ~Http2Connection() override;
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  /// Sends the server's SETTINGS and waits for the client's preface. `received`: what the
  /// client already sent, read by the connection this one takes over (the preface and what
  /// followed it). False when nghttp2 could not be set up or the input ended the connection
  /// (it is closed then).
  bool start(std::string_view received = {});
  /// The proxy is stopping: GOAWAY, streams in flight finish, then the connection closes.
  void drain() override;

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;
  /// The end of the batch of events: writes what its streams queued during it (pump()).
  void writeDeferred() override { pump(); }

  // For its streams.
  ProxyLoop& loop() { return loop_; }
  nghttp2_session* session() { return session_; }
  const std::string& peer() const { return peer_; }
  bool peerTrusted() const { return peerTrusted_; }
  /// The client came over TLS (h2), not in the clear (h2c).
  bool secure() const { return stream_.tls(); }
  /// Whether this connection's certificate covers `host` (a routing host, RequestHost's form).
  bool certificateCovers(std::string_view host) { return cover_.covers(host); }
  /// An empty field list for the HEADERS frame a stream submits next (nghttp2 copies it).
  Http2FieldList& fieldList() {
    fieldList_.clear();
    return fieldList_;
  }
  /// A request head for a new stream, one a closed stream gave back where there is one (its
  /// storage kept: no allocation per request).
  std::unique_ptr<Http2RequestHead> takeRequestHead();
  void giveRequestHead(std::unique_ptr<Http2RequestHead> head);
  /// The same for the trailer fields of a response (gRPC's status).
  std::unique_ptr<Http2FieldList> takeFieldList();
  void giveFieldList(std::unique_ptr<Http2FieldList> list);
  /// Writes what nghttp2 has to send now.
  void pump();
  /// Writes what nghttp2 has to send at the end of this batch of events, with whatever the
  /// connection's other streams queue in the meantime: one TLS record and one write for all of
  /// them, and a response whose end comes in the same batch goes out with END_STREAM on its
  /// last DATA frame rather than in an empty one of its own.
  void pumpSoon();
  void streamClosed(std::int32_t id);

 private:
  struct Callbacks;
  friend struct Callbacks;
  enum Tag { kIdle, kSend, kLinger };

  void readInput();
  /// One read and what nghttp2 makes of it; the bytes read (0: nothing more now, or closed).
  std::size_t readOnce();
  /// Hands `n` bytes of input to nghttp2; false when that ended the connection.
  bool receive(const char* bytes, std::size_t n);
  void dispatchReady();
  void updateInterest();
  void armTimer();
  /// The session ended (its GOAWAY written): half-close and drop what the client still sends
  /// until it closes or the linger timeout runs out, then close.
  void linger();
  /// Reads and drops input while lingering; closes at its end.
  void discardInput();
  /// Its streams end with it (their exchanges are told the client is gone).
  void closeStreams();
  void close();

  ProxyLoop& loop_;
  net::Stream stream_;
  CertificateCover cover_;
  net::Registration registration_;  // stream_'s descriptor on the loop
  std::string peer_;
  bool peerTrusted_;
  ConnectionCount count_;
  nghttp2_session* session_{nullptr};
  net::Outbox out_;
  net::Timer timer_;
  Http2FieldList fieldList_;
  SparePool<Http2RequestHead> spareHeads_;
  SparePool<Http2FieldList> spareLists_;
  std::map<std::int32_t, std::unique_ptr<Http2Stream>> streams_;
  // Streams closed while one of their own methods may be on the stack: released on the next
  // event of the connection (or with it). Kept here rather than on EventLoop::releaseLater: a
  // stream's destructor uses its connection (session, loop), so it must not outlive it.
  std::vector<std::unique_ptr<Http2Stream>> closedStreams_;
  // Streams whose request head came in the current turn, dispatched at its end.
  std::vector<std::int32_t> ready_;
  unsigned emptyFrames_{0};  // DATA frames in a row with neither payload nor END_STREAM
  bool flooded_{false};      // too many of them: GOAWAY ENHANCE_YOUR_CALM
  bool writeBlocked_{false};
  bool closed_{false};
  bool draining_{false};
  bool pumping_{false};
  bool settingsSent_{false};
  bool resumeRead_{false};  // input left over from a turn's budget: read again next turn
  bool lingering_{false};
};

}  // namespace portico
