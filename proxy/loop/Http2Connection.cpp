#include "loop/Http2Connection.h"

#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "base/Log.h"
#include "loop/Http2Stream.h"
#include "loop/ProxyLoop.h"
#include "observe/ProxyMetrics.h"

namespace portico {
namespace {

constexpr std::uint32_t kMaxStreams = 128;  // concurrent streams a client is told it may open
// What nghttp2 itself enforces: over it nghttp2 ends the connection (GOAWAY), so it sits well
// above kMaxStreams; between the two, streams are refused one by one (see beginHeaders).
constexpr std::uint32_t kStreamHardLimit = 4 * kMaxStreams;
constexpr std::int32_t kWindow = 1 << 20;         // per stream, and for the connection
constexpr std::size_t kOutHighWater = 64 * 1024;  // frames queued before writing
// Input one connection may take per turn of the loop before the others get theirs.
constexpr std::size_t kReadBudget = 64 * 1024;
// CVE-2019-9518: DATA frames with neither payload nor END_STREAM cost the proxy work and the
// client nothing; Envoy allows one in a row (max_inbound_frames_with_empty_payload), this a few.
constexpr unsigned kMaxEmptyFrames = 8;
// Request heads and trailer lists kept for the next streams (each with little storage: both
// let a large one go when cleared).
constexpr std::size_t kSpares = 16;

/// nghttp2 holds a client to MAX_CONCURRENT_STREAMS as a connection error once the client
/// acknowledged it (GOAWAY PROTOCOL_ERROR for all streams), where RFC 9113 5.1.2 makes it a
/// stream error. So nghttp2 is given kStreamHardLimit and the client is told kMaxStreams: this
/// rewrites the value in the server's first SETTINGS frame (the connection preface, the first
/// bytes nghttp2 sends), and streams over kMaxStreams are refused in beginHeaders.
void advertiseStreamLimit(std::string& frame) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(frame[i]); };
  assert(frame.size() >= 9 && byte(3) == NGHTTP2_SETTINGS);
  if (frame.size() < 9 || byte(3) != NGHTTP2_SETTINGS) return;
  const std::size_t end =
      std::min(frame.size(), 9 + ((std::size_t{byte(0)} << 16) | (byte(1) << 8) | byte(2)));
  for (std::size_t at = 9; at + 6 <= end; at += 6) {
    if (((byte(at) << 8) | byte(at + 1)) != NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) continue;
    for (int i = 0; i < 4; ++i)
      frame[at + 2 + static_cast<std::size_t>(i)] = static_cast<char>(kMaxStreams >> (24 - 8 * i));
  }
}

}  // namespace

/// nghttp2's callbacks, forwarding to the connection and its streams.
struct Http2Connection::Callbacks {
  static Http2Connection& self(void* user) { return *static_cast<Http2Connection*>(user); }

  static Http2Stream* stream(Http2Connection& c, std::int32_t id) {
    auto it = c.streams_.find(id);
    return it == c.streams_.end() ? nullptr : it->second.get();
  }

  static int beginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Connection& c = self(user);
    const std::int32_t id = frame->hd.stream_id;
    if (c.streams_.size() >= kMaxStreams) {
      // RFC 9113 5.1.2: over the advertised limit is this stream's error, and REFUSED_STREAM
      // tells the client nothing of it was processed (it may retry).
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
      if (ProxyMetrics* m = c.loop_.context().metrics)
        m->http2StreamRefused(m->threadShard(), ProxyMetrics::StreamRefusal::Concurrency);
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    c.streams_[id] = std::make_unique<Http2Stream>(c, id);
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t nameLength, const std::uint8_t* value, std::size_t valueLength,
                      std::uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Http2Stream* s = stream(self(user), frame->hd.stream_id);
    if (!s) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), nameLength);
    const std::string_view v(reinterpret_cast<const char*>(value), valueLength);
    if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {
      s->addTrailer(n, v);  // a HEADERS frame after the body (RFC 9113 8.1)
    } else {
      s->addHeader(n, v);
    }
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Connection& c = self(user);
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_DATA) {
      c.emptyFrames_ = frame->hd.length == 0 && !end ? c.emptyFrames_ + 1 : 0;
      // Ended after this input (nghttp2 must not be terminated inside its DATA handling).
      if (c.emptyFrames_ > kMaxEmptyFrames) c.flooded_ = true;
    }
    Http2Stream* s = stream(c, frame->hd.stream_id);
    if (!s) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s->headersDone(end);
      c.ready_.push_back(frame->hd.stream_id);
    } else if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && end) {
      s->endOfRequest();  // the last DATA frame, or the trailers after it
    }
    return 0;
  }

  static int onData(nghttp2_session* session, std::uint8_t, std::int32_t id,
                    const std::uint8_t* data, std::size_t length, void* user) {
    if (Http2Stream* s = stream(self(user), id)) {
      s->data(data, length);
    } else {
      nghttp2_session_consume(session, id, length);
    }
    return 0;
  }

  static int onClose(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
    self(user).streamClosed(id);
    return 0;
  }
};

Http2Connection::Http2Connection(ProxyLoop& loop, net::Stream stream, std::string peer,
                                 bool peerTrusted, ConnectionCount count)
    : loop_(loop),
      stream_(std::move(stream)),
      cover_(stream_.ssl()),
      registration_(loop.events(), *this),
      peer_(std::move(peer)),
      peerTrusted_(peerTrusted),
      count_(std::move(count)),
      timer_(*this, kIdle),
      spareHeads_(kSpares),
      spareLists_(kSpares) {}

Http2Connection::~Http2Connection() {
  streams_.clear();
  closedStreams_.clear();
  if (session_) nghttp2_session_del(session_);
}

bool Http2Connection::start(std::string_view received) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_option* options = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&options) != 0) {
    if (callbacks) nghttp2_session_callbacks_del(callbacks);
    close();
    return false;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::onFrame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::onData);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::onClose);
  // The client's window opens only for what the targets took (back-pressure).
  nghttp2_option_set_no_auto_window_update(options, 1);
  nghttp2_option_set_max_deflate_dynamic_table_size(options, 4096);
  // Rapid reset (CVE-2023-44487) and CONTINUATION floods (CVE-2024-28182): nghttp2's guards.
  nghttp2_option_set_stream_reset_rate_limit(options, 1000, 33);
  nghttp2_option_set_max_continuations(options, 8);
  nghttp2_option_set_max_settings(options, 32);
  const int rc = nghttp2_session_server_new2(&session_, callbacks, this, options);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_option_del(options);
  if (rc != 0) {
    close();
    return false;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kStreamHardLimit},  // kMaxStreams on the wire
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(loop_.limits().maxHeaderBytes)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                          sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);
  armTimer();
  pump();
  if (closed_) return false;
  if (!received.empty() && !receive(received.data(), received.size())) return false;
  // Bytes may already wait inside TLS (the client's preface came with the handshake).
  readInput();
  return !closed_;
}

void Http2Connection::drain() {
  if (closed_ || draining_) return;
  draining_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  pump();
}

void Http2Connection::onEvent(std::uint32_t events) {
  if (closed_) return;     // closed earlier in this batch, released after it
  closedStreams_.clear();  // no stream method is on the stack here
  if (lingering_) {
    discardInput();
    return;
  }
  if ((events & EPOLLOUT) && writeBlocked_) {
    const net::Io io = out_.flush(stream_);
    if (io == net::Io::Failed || io == net::Io::Closed) {
      close();
      return;
    }
    if (io == net::Io::Ok) {
      writeBlocked_ = false;
      pump();
      if (closed_) return;
    }
  }
  if (resumeRead_ || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) readInput();
}

void Http2Connection::readInput() {
  // Fairness: a connection takes at most kReadBudget per turn, however fast its client sends.
  // Bytes TLS already decrypted raise no socket event, so when some are left the connection
  // watches for EPOLLOUT (ready at once) to be called again next turn, after the others.
  resumeRead_ = false;
  for (std::size_t taken = 0; !closed_;) {
    if (taken >= kReadBudget) {
      resumeRead_ = stream_.pending();
      break;
    }
    const std::size_t n = readOnce();
    if (n == 0) break;
    taken += n;
    // Flood guards (nghttp2's or the empty-frame budget) ended the session: send its GOAWAY.
    if (!nghttp2_session_want_read(session_) || !stream_.pending()) break;
  }
  if (closed_ || lingering_) return;
  dispatchReady();
  armTimer();
  pumpSoon();
}

std::size_t Http2Connection::readOnce() {
  std::unique_ptr<net::Buffer> in = loop_.buffers().take();
  std::size_t n = 0;
  const net::Io io = stream_.read(in->data(), in->capacity(), n);
  if (io != net::Io::Ok) {
    loop_.buffers().give(std::move(in));
    if (io != net::Io::Again) close();
    return 0;
  }
  // DATA frames reach the exchanges as pointers into `in`; each exchange writes or copies them
  // before the callback returns, so the buffer is free again afterwards.
  const bool open = receive(in->data(), n);
  loop_.buffers().give(std::move(in));
  return open ? n : 0;
}

bool Http2Connection::receive(const char* bytes, std::size_t n) {
  const ssize_t used =
      nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes), n);
  if (used < 0) {
    // A protocol error: nghttp2 has queued GOAWAY; send it, then close (lingering once it is
    // written, see linger(); at once when the write blocked, as a slow client cannot be waited
    // for here).
    pump();
    if (!lingering_) close();
    return false;
  }
  // The rest of the input is ignored from now on; the connection closes once GOAWAY is out.
  if (flooded_) {
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
    pump();
  } else {
    pumpSoon();
  }
  return !closed_ && !lingering_;
}

void Http2Connection::dispatchReady() {
  // Streams whose head came in this turn start now, so one the client reset within the same
  // input (rapid reset, CVE-2023-44487) never opens a target connection.
  for (std::size_t i = 0; i < ready_.size() && !closed_; ++i) {
    if (Http2Stream* s = Callbacks::stream(*this, ready_[i])) s->dispatch();
  }
  ready_.clear();
}

void Http2Connection::pumpSoon() {
  if (!closed_) loop_.deferredWrites().add(*this);
}

void Http2Connection::pump() {
  if (closed_ || pumping_ || !session_) return;
  DeferredWrites::cancel(*this);  // everything pending goes now
  pumping_ = true;
  while (!writeBlocked_) {
    bool produced = false;
    while (out_.pending() < kOutHighWater) {
      const std::uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        pumping_ = false;
        close();
        return;
      }
      if (n == 0) break;
      const std::string_view frame(reinterpret_cast<const char*>(data),
                                   static_cast<std::size_t>(n));
      if (!settingsSent_) {
        settingsSent_ = true;
        std::string preface(frame);
        advertiseStreamLimit(preface);
        out_.append(preface);
      } else {
        out_.append(frame);
      }
      produced = true;
    }
    if (out_.empty()) break;
    const net::Io io = out_.flush(stream_);
    if (io == net::Io::Failed || io == net::Io::Closed) {
      pumping_ = false;
      close();
      return;
    }
    if (io == net::Io::Again) writeBlocked_ = true;
    if (!produced && io != net::Io::Ok) break;
  }
  pumping_ = false;
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_) &&
      out_.empty()) {
    linger();
    return;
  }
  if (draining_ && streams_.empty() && out_.empty()) {
    close();
    return;
  }
  updateInterest();
  armTimer();
}

std::unique_ptr<Http2RequestHead> Http2Connection::takeRequestHead() {
  std::unique_ptr<Http2RequestHead> head = spareHeads_.take();
  return head ? std::move(head) : std::make_unique<Http2RequestHead>(loop_.limits().maxHeaderBytes);
}

void Http2Connection::giveRequestHead(std::unique_ptr<Http2RequestHead> head) {
  if (!head) return;
  head->clear();
  spareHeads_.give(std::move(head));
}

std::unique_ptr<Http2FieldList> Http2Connection::takeFieldList() {
  std::unique_ptr<Http2FieldList> list = spareLists_.take();
  return list ? std::move(list) : std::make_unique<Http2FieldList>();
}

void Http2Connection::giveFieldList(std::unique_ptr<Http2FieldList> list) {
  if (!list) return;
  list->clear();
  spareLists_.give(std::move(list));
}

void Http2Connection::streamClosed(std::int32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->closed();
  closedStreams_.push_back(std::move(it->second));
  streams_.erase(it);
}

void Http2Connection::updateInterest() {
  // Reachable closed: pump() asks after its write, which may have closed the connection.
  if (closed_ || lingering_) return;
  std::uint32_t events = EPOLLIN | EPOLLRDHUP;
  if (writeBlocked_ || stream_.wantsWrite() || resumeRead_) events |= EPOLLOUT;
  if (!registration_.want(stream_.fd(), events)) {
    logLine(std::string("proxy: cannot watch an HTTP/2 connection: ") + std::strerror(errno));
    close();
  }
}

void Http2Connection::armTimer() {
  // Reachable closed: pump() may have closed the connection before it re-arms.
  if (closed_ || lingering_) return;
  if (writeBlocked_) {
    timer_.tag = kSend;
    loop_.sendTimeouts().arm(timer_, loop_.events().now());
  } else if (streams_.empty()) {
    timer_.tag = kIdle;
    loop_.keepAliveTimeouts().arm(timer_, loop_.events().now());
  } else {
    timer_.cancel();  // streams in flight: their targets' timeouts run
  }
}

void Http2Connection::closeStreams() {
  for (auto& [id, s] : streams_) {
    s->closed();
    closedStreams_.push_back(std::move(s));
  }
  streams_.clear();
}

void Http2Connection::linger() {
  if (lingering_) return;
  // Closing with the client's input unread makes the kernel answer it with a TCP reset, which
  // can destroy the GOAWAY before the client reads it (a flood's ENHANCE_YOUR_CALM, a protocol
  // error's code); nginx closes an HTTP/2 connection the same lingering way.
  lingering_ = true;
  closeStreams();
  stream_.shutdownWrite();
  timer_.tag = kLinger;
  loop_.lingerTimeouts().arm(timer_, loop_.events().now());
  if (!registration_.want(stream_.fd(), EPOLLIN | EPOLLRDHUP)) close();
}

void Http2Connection::discardInput() {
  std::unique_ptr<net::Buffer> in = loop_.buffers().take();
  std::size_t n = 0;
  // One buffer per event: the descriptor stays readable while more waits (level-triggered).
  const net::Io io = stream_.read(in->data(), in->capacity(), n);
  loop_.buffers().give(std::move(in));
  if (io != net::Io::Ok && io != net::Io::Again) close();  // the client closed (or failed)
}

void Http2Connection::onTimeout(int) {
  close();
}

void Http2Connection::close() {
  if (closed_) return;  // reachable: a failed write inside pump() and its caller both close
  closed_ = true;
  timer_.cancel();
  DeferredWrites::cancel(*this);
  closeStreams();
  // Closing the descriptor takes it out of the epoll set: no epoll_ctl of its own.
  registration_.forget();
  stream_.close();
  loop_.closed(*this);
}

}  // namespace portico
