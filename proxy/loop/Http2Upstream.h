#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/HttpHead.h"
#include "loop/DeferredWrites.h"
#include "loop/UpstreamChannel.h"
#include "net/Releasable.h"

namespace portico {

class ProxyLoop;
struct TargetState;

/// One event loop's HTTP/2 connection to a target (route field upstreamProtocol "h2"; prior
/// knowledge, RFC 9113 3.3): many exchanges' streams multiplexed over one UpstreamChannel, which
/// still does the connecting and the socket I/O. The loop keeps a few per target
/// (Http2Upstreams); a stream goes to one with room under the target's
/// SETTINGS_MAX_CONCURRENT_STREAMS, else a new connection opens. Flow control is nghttp2's with
/// the window update left to the exchange (a response is consumed only as its client takes it,
/// so a slow client holds the target back instead of filling the proxy). A GOAWAY from the
/// target takes the connection out of use; the streams it accepted finish, the others fail as
/// never processed (retried elsewhere like a refused connect). A connection without a stream
/// closes after the upstream idle time, as an idle HTTP/1.1 connection leaves the pool.
class Http2Upstream final : public UpstreamChannel::Owner,
                            public net::Releasable,
                            public net::TimerHandler,
                            public DeferredWrites::Writer {
 public:
  /// The exchange's side of one stream.
  class Stream {
   public:
    virtual ~Stream() = default;
    /// `connection` is ready: submit the request on it now.
    virtual void h2Ready(Http2Upstream& connection) = 0;
    /// The connection failed, or the stream was reset. `unprocessed`: the target never saw
    /// the request (refused connect, REFUSED_STREAM, beyond a GOAWAY's last stream).
    virtual void h2Failed(UpstreamChannel::Failure failure, const std::string& error,
                          bool unprocessed) = 0;
    /// The response head (informational ones are skipped); `endStream`: no body follows.
    virtual void h2Head(const http::HttpHead& head, bool endStream) = 0;
    /// Body bytes; the exchange calls consume() once its client took them.
    virtual void h2Data(std::string_view bytes) = 0;
    /// The target's trailer fields (lower-case names), before h2End().
    virtual void h2Trailers(const http::HttpHead& trailers) = 0;
    virtual void h2End() = 0;
    /// The request body for a DATA frame: up to `length` bytes into `buffer`. Returns the count,
    /// or -1 when nothing is there yet (deferred until resume()); sets `end` after the last.
    virtual long h2Body(std::uint8_t* buffer, std::size_t length, bool& end) = 0;
    /// The request's trailer fields, asked for once its body ended (none by default).
    virtual void h2RequestTrailers(std::vector<nghttp2_nv>& /*fields*/) {}
  };

  Http2Upstream(ProxyLoop& loop, std::shared_ptr<TargetState> target);
  ~Http2Upstream() override;
  Http2Upstream(const Http2Upstream&) = delete;
  Http2Upstream& operator=(const Http2Upstream&) = delete;

  /// Finds a connection of `loop` to `target` with room for one more stream (opens a new one
  /// when none has); `stream` is told h2Ready() (at once when the connection is up) or
  /// h2Failed() (possibly at once too).
  /// A new connection is timed on `connectTimers` (the route's connect timeout).
  /// An https target is offered h2 alone by ALPN: one that picks nothing else fails the
  /// attempt (a handshake failure, so the request may go to another target).
  static void attach(ProxyLoop& loop, const std::shared_ptr<TargetState>& target, Stream& stream,
                     net::TimerList& connectTimers);
  /// Like attach(), but only onto a connection that is up with room (upstreamProtocol "auto":
  /// a target that chose h2 before gets the stream); false when there is none.
  static bool attachOpen(ProxyLoop& loop, const TargetState& target, Stream& stream);
  /// A connection whose TLS handshake just settled on h2 (upstreamProtocol "auto") becomes the
  /// loop's HTTP/2 connection to its target, `stream` its first stream.
  static void adopt(ProxyLoop& loop, std::unique_ptr<UpstreamChannel> channel, Stream& stream);
  /// `target` left the configuration: `loop`'s connections to it take no new streams and close
  /// once their streams are done (at once when they have none).
  static void retireAll(ProxyLoop& loop, const TargetState& target);
  /// Submits the request head (`fields`: nghttp2 name/value pairs, pseudo-headers first);
  /// `body`: DATA follows through Stream::h2Body(). Returns the stream id (<0: refused).
  std::int32_t submit(Stream& stream, const nghttp2_nv* fields, std::size_t count, bool body);
  /// More request body (or its end) is there for a stream whose h2Body() deferred.
  void resume(std::int32_t id);
  /// `n` response bytes of stream `id` were taken by its client: the target may send more.
  void consume(std::int32_t id, std::size_t n);
  /// The exchange is gone (client reset or left): RST_STREAM CANCEL, no more calls to it.
  void cancel(Stream& stream, std::int32_t id);
  /// Writes what nghttp2 has to send now.
  void pump();
  /// Writes it at the end of this batch of events, with what the connection's other streams
  /// queue meanwhile (requests, WINDOW_UPDATEs, resets): one write for all of them.
  void pumpSoon();
  void writeDeferred() override { pump(); }

  // UpstreamChannel::Owner
  void upstreamConnected() override;
  void upstreamReadable() override;
  void upstreamDrained() override;
  void upstreamFailed(UpstreamChannel::Failure failure, const std::string& error) override;

  // TimerHandler: no stream for the upstream idle time.
  void onTimeout(int tag) override;

 private:
  struct Callbacks;
  friend struct Callbacks;
  bool hasRoom() const;
  void ended(std::int32_t id);
  bool startSession();
  void failAll(UpstreamChannel::Failure failure, const std::string& error);
  /// Out of the loop's list; destroyed after the batch.
  void retire();
  /// Starts the idle timer once the last stream is gone (stops it while one is open).
  void watchIdle();

  ProxyLoop& loop_;
  std::shared_ptr<TargetState> target_;
  std::unique_ptr<UpstreamChannel> channel_;
  nghttp2_session* session_{nullptr};
  std::unordered_map<std::int32_t, Stream*> streams_;
  std::vector<Stream*> waiting_;  // attached before the connection was up
  // The header block being received: one at a time on a connection, as HEADERS and its
  // CONTINUATIONs come in a row (RFC 9113 6.10). One head reused, its storage kept, where a
  // head per stream cost ten allocations per gRPC call (head and trailers, issue 21's profile).
  http::HttpHead receiving_;
  std::int32_t receivingId_{0};  // its stream (0: none)
  bool connected_{false};
  bool goaway_{false};
  bool closed_{false};
  bool pumping_{false};
  net::Timer idle_{*this, 0};
};

/// The loop's HTTP/2 connections, by target.
using Http2Upstreams =
    std::unordered_map<const TargetState*, std::vector<std::unique_ptr<Http2Upstream>>>;

}  // namespace portico
