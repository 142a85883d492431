#include "loop/Http2Connection.h"

#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/Log.h"
#include "forward/JsonError.h"
#include "http/HttpDate.h"
#include "http/NumberText.h"
#include "loop/Exchange.h"
#include "loop/ProxyLoop.h"
#include "loop/RequestLog.h"
#include "routing/RequestRouting.h"

namespace portico {
namespace {

constexpr std::uint32_t kMaxStreams = 128;
constexpr std::int32_t kWindow = 1 << 20;            // per stream, and for the connection
constexpr std::size_t kStreamHighWater = 64 * 1024;  // response bytes a stream buffers
constexpr std::size_t kOutHighWater = 64 * 1024;     // frames queued before writing

std::string lowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

nghttp2_nv header(const std::string& name, const std::string& value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

/// One request/response stream of an HTTP/2 connection: the client side of an Exchange.
class Http2Stream final : public ExchangeClient {
 public:
  Http2Stream(Http2Connection& connection, std::int32_t id)
      : conn_(connection), id_(id), started_(std::chrono::steady_clock::now()) {}
  ~Http2Stream() override {
    if (exchange_) {
      if (!exchange_->finished()) exchange_->clientGone();
      conn_.loop().recycle(std::move(exchange_));
    }
  }

  void addHeader(std::string_view name, std::string_view value) {
    if (name == ":method") {
      method_ = value;
    } else if (name == ":path") {
      path_ = value;
    } else if (name == ":authority") {
      authority_ = value;
    } else if (!name.empty() && name.front() == ':') {
      // :scheme, :protocol: nothing the upstream request carries.
    } else if (name == "cookie") {
      // RFC 9113 8.2.3: split cookies are joined again for an HTTP/1.1 target.
      if (!cookies_.empty()) cookies_ += "; ";
      cookies_.append(value);
    } else {
      if (name == "host") hasHost_ = true;
      if (name == "content-length") hasLength_ = true;
      regular_.emplace_back(std::string(name), std::string(value));
    }
  }

  /// The request head is complete; `endStream`: it has no body.
  void headersDone(bool endStream) {
    requestEnded_ = endStream;
    head_.setMethod(head_.own(method_));
    head_.setTarget(head_.own(path_));
    head_.setVersion(1, 1);
    if (!hasHost_ && !authority_.empty()) head_.addOwned("Host", authority_);
    for (const auto& [n, v] : regular_) head_.addOwned(n, v);
    if (!cookies_.empty()) head_.addOwned("Cookie", cookies_);
    // A body of unknown length goes to the target chunked, as nginx does.
    if (!endStream && !hasLength_) head_.addOwned("Transfer-Encoding", "chunked");
    regular_.clear();
    const std::shared_ptr<const RouteTable>& table = conn_.loop().table();
    RequestRouting routing = RequestRouting::of(*table, head_.target());
    if (!routing.route) {
      answer({routing.status, routing.message});
      return;
    }
    exchange_ = conn_.loop().takeExchange();
    exchange_->start(*this, table, *routing.route, head_, std::move(routing.resolved), conn_.peer(),
                     conn_.peerTrusted(), true);
  }

  /// Request body bytes from a DATA frame.
  void data(const std::uint8_t* bytes, std::size_t size) {
    if (!exchange_ || exchange_->finished() || answered_) {
      // Nobody takes them any more: drop them but keep the connection's window open.
      nghttp2_session_consume(conn_.session(), id_, size);
      return;
    }
    if (!bodyWanted_) {
      pendingBody_.append(reinterpret_cast<const char*>(bytes), size);
      unconsumed_ += size;
      return;
    }
    exchange_->requestBody(std::string_view(reinterpret_cast<const char*>(bytes), size));
    unconsumed_ += size;
    deliverMore();
  }

  void endOfRequest() {
    requestEnded_ = true;
    if (exchange_ && bodyWanted_ && !exchange_->finished()) {
      exchange_->requestBodyEnd();
      exchange_->flushRequest();
    }
  }

  /// The stream closed (either side, or the connection went away).
  void closed() {
    closed_ = true;
    if (exchange_ && !exchange_->finished()) {
      exchange_->clientGone();
      if (!logged_) log(499, exchange_->bytesSent());
    }
  }

  /// nghttp2 pulls the response body from here.
  ssize_t read(std::uint8_t* buffer, std::size_t length, std::uint32_t* flags) {
    const std::size_t available = out_.size() - outPos_;
    if (available == 0 && !outEnd_) return NGHTTP2_ERR_DEFERRED;
    const std::size_t n = std::min(length, available);
    std::memcpy(buffer, out_.data() + outPos_, n);
    outPos_ += n;
    if (outPos_ == out_.size()) {
      out_.clear();
      outPos_ = 0;
      if (outEnd_) *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (outPos_ > 32 * 1024) {
      out_.erase(0, outPos_);
      outPos_ = 0;
    }
    if (paused_ && out_.size() - outPos_ < kStreamHighWater) {
      // The client took enough: the exchange reads the target again.
      paused_ = false;
      if (exchange_ && !exchange_->finished()) exchange_->clientDrained();
    }
    return static_cast<ssize_t>(n);
  }

  // ExchangeClient
  void requestBodyWanted() override {
    bodyWanted_ = true;
    if (!pendingBody_.empty()) {
      exchange_->requestBody(pendingBody_);
    }
    if (requestEnded_) exchange_->requestBodyEnd();
    deliverMore();
  }

  void responseHead(const http::HttpHead& upstream,
                    const ForwardingPolicy::Response& plan) override {
    status_ = upstream.status();
    std::vector<std::string> storage;
    storage.reserve(2 * (upstream.fieldCount() + 4));
    std::vector<nghttp2_nv> nva;
    char digits[24];
    storage.push_back(":status");
    storage.emplace_back(http::decimalText(static_cast<std::uint64_t>(status_), digits));
    if (!upstream.has(http::KnownHeader::Date)) {
      storage.push_back("date");
      storage.emplace_back(http::httpDate());
    }
    if (!upstream.has(http::KnownHeader::Server)) {
      storage.push_back("server");
      storage.push_back("portico");
    }
    exchange_->policy().forEachResponseHeader(upstream,
                                              [&](std::string_view name, std::string_view value) {
                                                storage.push_back(lowerCase(name));
                                                storage.emplace_back(value);
                                              });
    bool body = true;
    std::uint64_t length = 0;
    bool haveLength = false;
    if (plan.client == http::BodyFraming::Empty) {
      body = false;
      if (const auto announced = http::MessageFraming::announcedLength(upstream)) {
        length = *announced;
        haveLength = true;
      }
    } else if (plan.client == http::BodyFraming::Length) {
      length = plan.length;
      haveLength = true;
      body = plan.length > 0;
    }
    if (haveLength) {
      storage.push_back("content-length");
      storage.emplace_back(http::decimalText(length, digits));
    }
    for (std::size_t i = 0; i + 1 < storage.size(); i += 2)
      nva.push_back(header(storage[i], storage[i + 1]));
    submit(nva, body);
    if (!body) outEnd_ = true;
  }

  void responseBody(std::string_view bytes) override {
    out_.append(bytes);
    bytes_ += bytes.size();
  }

  bool flushResponse() override {
    if (closed_) return false;
    nghttp2_session_resume_data(conn_.session(), id_);
    conn_.pump();
    if (out_.size() - outPos_ >= kStreamHighWater) {
      paused_ = true;
      return false;
    }
    return true;
  }

  void responseEnd() override {
    outEnd_ = true;
    if (!closed_) {
      nghttp2_session_resume_data(conn_.session(), id_);
      conn_.pump();
    }
    log(status_, bytes_);
  }

  void answer(const ProxyAnswer& a) override {
    answered_ = true;
    status_ = a.status;
    const std::string body = JsonError::body(a.message);
    char digits[24];
    std::vector<std::string> storage = {
        ":status",
        std::string(http::decimalText(static_cast<std::uint64_t>(a.status), digits)),
        "content-type",
        "application/json",
        "content-length",
        std::to_string(body.size()),
        "date",
        std::string(http::httpDate()),
        "server",
        "portico"};
    std::vector<nghttp2_nv> nva;
    for (std::size_t i = 0; i + 1 < storage.size(); i += 2)
      nva.push_back(header(storage[i], storage[i + 1]));
    out_ = body;
    outPos_ = 0;
    outEnd_ = true;
    submit(nva, true);
    log(a.status, body.size());
    conn_.pump();
  }

  void abortResponse() override {
    if (!closed_)
      nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
    log(status_, bytes_);
    conn_.pump();
  }

  void tunnel(const http::HttpHead&, const ForwardingPolicy::Response&,
              std::unique_ptr<UpstreamChannel> channel) override {
    // No WebSocket over HTTP/2 (RFC 8441 is not offered): clients use HTTP/1.1 for it.
    channel->abort();
    abortResponse();
  }

 private:
  void submit(const std::vector<nghttp2_nv>& nva, bool body) {
    if (closed_) return;
    nghttp2_data_provider provider{};
    provider.source.ptr = this;
    provider.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf,
                                std::size_t length, std::uint32_t* flags, nghttp2_data_source* src,
                                void*) -> ssize_t {
      return static_cast<Http2Stream*>(src->ptr)->read(buf, length, flags);
    };
    nghttp2_submit_response(conn_.session(), id_, nva.data(), nva.size(),
                            body ? &provider : nullptr);
  }

  /// Writes what the exchange queued for the target; the client's window opens only for what
  /// the target took, so a slow target slows the client down instead of filling memory.
  void deliverMore() {
    const bool flowing = exchange_->flushRequest();
    if (!flowing) {
      bodyWanted_ = false;  // requestBodyWanted() comes again when the target drained
      return;
    }
    pendingBody_.clear();
    if (unconsumed_ > 0) {
      nghttp2_session_consume(conn_.session(), id_, unconsumed_);
      unconsumed_ = 0;
      conn_.pump();
    }
  }

  void log(int status, std::uint64_t bytes) {
    if (logged_) return;
    logged_ = true;
    logRequest(conn_.loop(), head_.fieldCount() || !path_.empty() ? &head_ : nullptr, "HTTP/2.0",
               exchange_.get(), conn_.peer(), status, bytes, started_);
  }

  Http2Connection& conn_;
  std::int32_t id_;
  std::chrono::steady_clock::time_point started_;
  std::string method_, path_, authority_, cookies_;
  std::vector<std::pair<std::string, std::string>> regular_;
  bool hasHost_{false};
  bool hasLength_{false};
  http::HttpHead head_;
  std::unique_ptr<Exchange> exchange_;
  bool bodyWanted_{false};
  bool requestEnded_{false};
  std::string pendingBody_;
  std::size_t unconsumed_{0};
  std::string out_;
  std::size_t outPos_{0};
  bool outEnd_{false};
  bool paused_{false};
  bool answered_{false};
  bool closed_{false};
  bool logged_{false};
  int status_{0};
  std::uint64_t bytes_{0};
};

/// nghttp2's callbacks, forwarding to the connection and its streams.
struct Http2Connection::Callbacks {
  static Http2Connection& self(void* user) { return *static_cast<Http2Connection*>(user); }

  static Http2Stream* stream(Http2Connection& c, std::int32_t id) {
    auto it = c.streams_.find(id);
    return it == c.streams_.end() ? nullptr : it->second.get();
  }

  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Connection& c = self(user);
    c.streams_[frame->hd.stream_id] = std::make_unique<Http2Stream>(c, frame->hd.stream_id);
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t nameLength, const std::uint8_t* value, std::size_t valueLength,
                      std::uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (Http2Stream* s = stream(self(user), frame->hd.stream_id))
      s->addHeader(std::string_view(reinterpret_cast<const char*>(name), nameLength),
                   std::string_view(reinterpret_cast<const char*>(value), valueLength));
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Connection& c = self(user);
    Http2Stream* s = stream(c, frame->hd.stream_id);
    if (!s) return 0;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s->headersDone(end);
    } else if (frame->hd.type == NGHTTP2_DATA && end) {
      s->endOfRequest();
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
                                 bool peerTrusted)
    : loop_(loop),
      stream_(std::move(stream)),
      peer_(std::move(peer)),
      peerTrusted_(peerTrusted),
      timer_(*this, kIdle) {}

Http2Connection::~Http2Connection() {
  streams_.clear();
  closedStreams_.clear();
  if (session_) nghttp2_session_del(session_);
}

bool Http2Connection::start() {
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
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxStreams},
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
  if (closed_) return;
  closedStreams_.clear();  // no stream method is on the stack here
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
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readInput();
}

void Http2Connection::readInput() {
  for (;;) {
    if (closed_) return;
    std::unique_ptr<net::Buffer> in = loop_.buffers().take();
    std::size_t n = 0;
    const net::Io io = stream_.read(in->data(), in->capacity(), n);
    if (io == net::Io::Again) {
      loop_.buffers().give(std::move(in));
      updateInterest();
      return;
    }
    if (io != net::Io::Ok) {
      loop_.buffers().give(std::move(in));
      close();
      return;
    }
    // DATA frames reach the exchanges as pointers into `in`; each exchange writes or copies them
    // before the callback returns, so the buffer is free again afterwards.
    const ssize_t used =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(in->data()), n);
    loop_.buffers().give(std::move(in));
    if (used < 0) {
      // A protocol error: nghttp2 has queued GOAWAY; send it, then close.
      pump();
      close();
      return;
    }
    armTimer();
    pump();
    if (!stream_.pending()) return;
  }
}

void Http2Connection::pump() {
  if (closed_ || pumping_ || !session_) return;
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
      out_.append(
          std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n)));
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
    close();
    return;
  }
  if (draining_ && streams_.empty() && out_.empty()) {
    close();
    return;
  }
  updateInterest();
  armTimer();
}

void Http2Connection::streamClosed(std::int32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->closed();
  closedStreams_.push_back(std::move(it->second));
  streams_.erase(it);
}

void Http2Connection::updateInterest() {
  if (closed_) return;
  std::uint32_t events = EPOLLIN | EPOLLRDHUP;
  if (writeBlocked_ || stream_.wantsWrite()) events |= EPOLLOUT;
  if (registered_ && events == interest_) return;
  try {
    if (registered_) {
      loop_.events().modify(stream_.fd(), events, *this);
    } else {
      loop_.events().add(stream_.fd(), events, *this);
      registered_ = true;
    }
    interest_ = events;
  } catch (const std::exception& e) {
    logLine(std::string("proxy: cannot watch an HTTP/2 connection: ") + e.what());
    close();
  }
}

void Http2Connection::armTimer() {
  if (closed_) return;
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

void Http2Connection::onTimeout(int) {
  close();
}

void Http2Connection::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  for (auto& [id, s] : streams_) {
    s->closed();
    closedStreams_.push_back(std::move(s));
  }
  streams_.clear();
  registered_ = false;
  stream_.close();
  loop_.closed(*this);
}

}  // namespace portico
