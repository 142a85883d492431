#include "loop/Http2Upstream.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cassert>

#include "balance/TargetState.h"
#include "base/Log.h"
#include "http/NumberText.h"
#include "loop/ProxyLoop.h"

namespace portico {
namespace {

constexpr std::int32_t kWindow = 1 << 20;  // per stream and for the connection, as to clients
// Streams per connection until the target's SETTINGS say otherwise (RFC 9113 6.5.2 leaves it
// unlimited; 100 is what it recommends as the least a server should allow).
constexpr std::uint32_t kStreamsBeforeSettings = 100;

using UF = UpstreamChannel::Failure;

}  // namespace

/// nghttp2's callbacks (client side), forwarding to the connection's streams.
struct Http2Upstream::Callbacks {
  static Http2Upstream& self(void* user) { return *static_cast<Http2Upstream*>(user); }
  static Stream* stream(Http2Upstream& u, std::int32_t id) {
    auto it = u.streams_.find(id);
    return it == u.streams_.end() ? nullptr : it->second;
  }

  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Http2Upstream& u = self(user);
    u.receivingId_ = frame->hd.stream_id;
    u.receiving_.clear();
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t nameLength, const std::uint8_t* value, std::size_t valueLength,
                      std::uint8_t, void* user) {
    Http2Upstream& u = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != u.receivingId_) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), nameLength);
    const std::string_view v(reinterpret_cast<const char*>(value), valueLength);
    http::HttpHead& head = u.receiving_;
    if (n == ":status") {
      int status = 0;
      for (char c : v) status = status * 10 + (c - '0');  // nghttp2 checked: three digits
      head.setStatus(status);
      head.setVersion(1, 1);
    } else if (!n.empty() && n.front() != ':') {
      head.addOwned(n, v);
    }
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Upstream& u = self(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      // Streams above last_stream_id are closed by nghttp2 (REFUSED_STREAM: never processed);
      // those below finish. No new stream goes here.
      u.goaway_ = true;
      return 0;
    }
    const std::int32_t id = frame->hd.stream_id;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    Stream* s = stream(u, id);
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (id != u.receivingId_) return 0;
      u.receivingId_ = 0;
      // Used in place and forgotten after (a head's fields point into its own storage, so it
      // is never copied or moved).
      const http::HttpHead& head = u.receiving_;
      const int status = head.status();
      if (s && frame->headers.cat == NGHTTP2_HCAT_HEADERS && status == 0) {
        s->h2Trailers(head);
      } else if (s && status >= 200) {
        s->h2Head(head, end);
      }
      if (!s || (status > 0 && status < 200)) return 0;  // 1xx: the final head follows
      if (end) u.ended(id);
    } else if (frame->hd.type == NGHTTP2_DATA && end && s) {
      u.ended(id);
    }
    return 0;
  }

  static int onData(nghttp2_session* session, std::uint8_t, std::int32_t id,
                    const std::uint8_t* data, std::size_t length, void* user) {
    if (Stream* s = stream(self(user), id)) {
      s->h2Data(std::string_view(reinterpret_cast<const char*>(data), length));
    } else {
      nghttp2_session_consume(session, id, length);
    }
    return 0;
  }

  static int onClose(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
    Http2Upstream& u = self(user);
    if (id == u.receivingId_) u.receivingId_ = 0;
    auto it = u.streams_.find(id);
    if (it == u.streams_.end()) return 0;
    Stream* s = it->second;
    u.streams_.erase(it);
    // A stream that ended cleanly left streams_ at its end (ended()): this one was reset.
    s->h2Failed(UF::Reset,
                std::string("stream reset by the target (") + nghttp2_http2_strerror(code) + ")",
                code == NGHTTP2_REFUSED_STREAM);
    u.pump();  // the stream's end may have emptied a connection the target is closing
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, std::int32_t id, std::uint8_t* buffer,
                          std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                          void* user) {
    Stream* s = stream(self(user), id);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    bool end = false;
    const long n = s->h2Body(buffer, length, end);
    if (n < 0) return NGHTTP2_ERR_DEFERRED;
    if (end) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      std::vector<nghttp2_nv> trailers;
      s->h2RequestTrailers(trailers);
      // RFC 9113 8.1: the trailers' HEADERS frame ends the stream instead of the last DATA.
      if (!trailers.empty() &&
          nghttp2_submit_trailer(session, id, trailers.data(), trailers.size()) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return n;
  }
};

Http2Upstream::Http2Upstream(ProxyLoop& loop, std::shared_ptr<TargetState> target)
    : loop_(loop), target_(std::move(target)) {}

Http2Upstream::~Http2Upstream() {
  if (channel_) loop_.release(std::move(channel_));
  if (session_) nghttp2_session_del(session_);
}

bool Http2Upstream::hasRoom() const {
  if (closed_ || goaway_) return false;
  std::uint32_t limit = kStreamsBeforeSettings;
  if (session_ && connected_)
    limit = std::min<std::uint32_t>(
        nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
        1000);
  return streams_.size() + waiting_.size() < limit;
}

void Http2Upstream::attach(ProxyLoop& loop, const std::shared_ptr<TargetState>& target,
                           Stream& stream, net::TimerList& connectTimers) {
  auto& list = loop.http2Upstreams()[target.get()];
  for (auto& u : list) {
    if (!u->hasRoom()) continue;
    if (u->connected_) {
      stream.h2Ready(*u);
    } else {
      u->waiting_.push_back(&stream);
    }
    return;
  }
  list.push_back(std::make_unique<Http2Upstream>(loop, target));
  Http2Upstream& u = *list.back();
  u.waiting_.push_back(&stream);
  u.channel_ = std::make_unique<UpstreamChannel>(loop, target);
  u.channel_->offer(net::ClientAlpn::H2);  // used by an https target only
  u.channel_->connect(u, connectTimers);   // may report at once
}

bool Http2Upstream::attachOpen(ProxyLoop& loop, const TargetState& target, Stream& stream) {
  auto found = loop.http2Upstreams().find(&target);
  if (found == loop.http2Upstreams().end()) return false;
  for (auto& u : found->second) {
    if (!u->connected_ || !u->hasRoom()) continue;
    stream.h2Ready(*u);
    return true;
  }
  return false;
}

void Http2Upstream::adopt(ProxyLoop& loop, std::unique_ptr<UpstreamChannel> channel,
                          Stream& stream) {
  std::shared_ptr<TargetState> target = channel->targetHandle();
  auto& list = loop.http2Upstreams()[target.get()];
  list.push_back(std::make_unique<Http2Upstream>(loop, std::move(target)));
  Http2Upstream& u = *list.back();
  u.waiting_.push_back(&stream);
  u.channel_ = std::move(channel);
  u.channel_->adopt(u);
  u.upstreamConnected();
}

void Http2Upstream::retireAll(ProxyLoop& loop, const TargetState& target) {
  auto found = loop.http2Upstreams().find(&target);
  if (found == loop.http2Upstreams().end()) return;
  std::vector<Http2Upstream*> sessions;
  for (auto& u : found->second) sessions.push_back(u.get());
  for (Http2Upstream* u : sessions) {
    u->goaway_ = true;  // as if the target had said GOAWAY: no new stream goes there
    if (u->streams_.empty() && u->waiting_.empty()) u->failAll(UF::Reset, "target removed");
  }
}

bool Http2Upstream::startSession() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::onFrame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::onData);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::onClose);
  nghttp2_option* options = nullptr;
  if (nghttp2_option_new(&options) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return false;
  }
  // The target's window opens only for what the clients took (back-pressure).
  nghttp2_option_set_no_auto_window_update(options, 1);
  const int rc = nghttp2_session_client_new2(&session_, callbacks, this, options);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_option_del(options);
  if (rc != 0) return false;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kWindow)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                          sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);
  return true;
}

void Http2Upstream::upstreamConnected() {
  if (channel_->tls() && channel_->protocol() != "h2") {
    // Over TLS only ALPN says the target speaks HTTP/2 (RFC 9113 3.2); it chose otherwise.
    const std::string chose =
        channel_->protocol().empty() ? "no protocol" : std::string(channel_->protocol());
    const std::string why =
        "TLS with " + target_->authority + ": the target does not offer h2 (ALPN: " + chose + ")";
    logLine("target " + target_->url.canonical + ": " + why);
    upstreamFailed(UF::Handshake, why);
    return;
  }
  if (!startSession()) {
    upstreamFailed(UF::Reset, "cannot set up an HTTP/2 session");
    return;
  }
  connected_ = true;
  pump();
  // Each waiting exchange submits its request now (one may fail or cancel inside).
  std::vector<Stream*> ready;
  ready.swap(waiting_);
  for (Stream* s : ready) {
    if (closed_) {
      s->h2Failed(UF::Reset, "connection to the target closed", true);
      continue;
    }
    s->h2Ready(*this);
  }
  pump();
}

std::int32_t Http2Upstream::submit(Stream& stream, const nghttp2_nv* fields, std::size_t count,
                                   bool body) {
  assert(connected_ && session_);
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::readBody;
  const std::int32_t id =
      nghttp2_submit_request(session_, nullptr, fields, count, body ? &provider : nullptr, nullptr);
  if (id > 0) {
    streams_[id] = &stream;
    idle_.cancel();
  }
  return id;
}

void Http2Upstream::ended(std::int32_t id) {
  // Out of streams_ first: the stream's close (onClose) must not report a reset after its end.
  auto it = streams_.find(id);
  if (it == streams_.end()) return;  // h2Head cancelled it
  Stream* s = it->second;
  streams_.erase(it);
  s->h2End();
}

void Http2Upstream::resume(std::int32_t id) {
  if (closed_ || !session_) return;
  nghttp2_session_resume_data(session_, id);
  pumpSoon();
}

void Http2Upstream::consume(std::int32_t id, std::size_t n) {
  if (closed_ || !session_ || n == 0) return;
  nghttp2_session_consume(session_, id, n);
  pumpSoon();
}

void Http2Upstream::cancel(Stream& stream, std::int32_t id) {
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), &stream), waiting_.end());
  if (id <= 0) return;
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  streams_.erase(it);
  if (closed_ || !session_) return;
  // The client reset or left: the target stops working on it (RFC 9113 8.7).
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  pumpSoon();
}

void Http2Upstream::pumpSoon() {
  if (!closed_) loop_.deferredWrites().add(*this);
}

void Http2Upstream::pump() {
  if (closed_ || pumping_ || !session_ || !channel_) return;
  DeferredWrites::cancel(*this);  // everything pending goes now
  pumping_ = true;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      pumping_ = false;
      upstreamFailed(UF::Reset, nghttp2_strerror(static_cast<int>(n)));
      return;
    }
    if (n == 0) break;
    channel_->outbox().append(
        std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n)));
    if (channel_->outbox().pending() >= 64 * 1024) break;
  }
  const net::Io io = channel_->flush();
  pumping_ = false;
  if (io == net::Io::Failed || io == net::Io::Closed) {
    upstreamFailed(UF::Reset, "connection reset by the target");
    return;
  }
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_) &&
      channel_->outbox().empty()) {
    failAll(UF::Reset, "HTTP/2 connection to the target ended");
  } else if (goaway_ && streams_.empty()) {
    failAll(UF::Reset, "the target sent GOAWAY");
  } else {
    watchIdle();
  }
}

void Http2Upstream::watchIdle() {
  if (!streams_.empty() || !waiting_.empty() || !connected_) {
    idle_.cancel();
  } else if (!idle_.armed()) {
    loop_.upstreamIdleTimeouts().arm(idle_, loop_.events().now());
  }
}

void Http2Upstream::onTimeout(int) {
  // Closed with GOAWAY(NO_ERROR) first, so the target sees a clean end (RFC 9113 6.8).
  if (session_ && !closed_) {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n > 0 && channel_) {
      channel_->outbox().append(
          std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n)));
      channel_->flush();
      channel_->close();  // FIN, not the RST of retire(): the GOAWAY is not thrown away
    }
  }
  failAll(UF::Reset, "idle");
}

void Http2Upstream::upstreamReadable() {
  if (closed_) return;
  net::Buffer& in = channel_->input();
  if (in.unconsumed() > 0) {
    const ssize_t used = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const std::uint8_t*>(in.data() + in.begin()), in.unconsumed());
    if (closed_) return;
    if (used < 0) {
      pump();  // nghttp2's GOAWAY, if it queued one
      failAll(UF::Reset, std::string("HTTP/2 protocol error from the target: ") +
                             nghttp2_strerror(static_cast<int>(used)));
      return;
    }
    in.reset();
  }
  if (channel_->closedByPeer()) {
    failAll(UF::Reset, "connection closed by the target");
    return;
  }
  pumpSoon();
}

void Http2Upstream::upstreamDrained() {
  pump();
}

void Http2Upstream::upstreamFailed(UpstreamChannel::Failure failure, const std::string& error) {
  failAll(failure, error);
}

void Http2Upstream::failAll(UpstreamChannel::Failure failure, const std::string& error) {
  if (closed_) return;
  closed_ = true;
  idle_.cancel();
  DeferredWrites::cancel(*this);
  // Nothing was sent on a connection that never came up: those requests may go elsewhere.
  const bool neverUp = !connected_;
  std::vector<Stream*> waiting;
  waiting.swap(waiting_);
  std::vector<Stream*> open;
  for (auto& [id, s] : streams_) open.push_back(s);
  streams_.clear();
  retire();
  for (Stream* s : waiting) s->h2Failed(failure, error, true);
  for (Stream* s : open) s->h2Failed(failure, error, neverUp);
}

void Http2Upstream::retire() {
  auto& all = loop_.http2Upstreams();
  auto found = all.find(target_.get());
  if (found == all.end()) return;
  auto& list = found->second;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->get() != this) continue;
    std::unique_ptr<Http2Upstream> self = std::move(*it);
    list.erase(it);
    if (list.empty()) all.erase(found);
    if (channel_) {
      channel_->abort();
      loop_.release(std::move(channel_));
    }
    loop_.events().releaseLater(std::move(self));
    return;
  }
}

}  // namespace portico
