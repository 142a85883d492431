#include "health/GrpcProbeSession.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdlib>

namespace portico {
namespace {

// A HealthCheckResponse is a few bytes; a target sending more is not answering this call.
constexpr std::size_t kMaxBody = 16 * 1024;

nghttp2_nv field(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

struct GrpcProbeSession::Callbacks {
  static GrpcProbeSession& of(void* user) { return *static_cast<GrpcProbeSession*>(user); }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t nameLength, const std::uint8_t* value, std::size_t valueLength,
                      std::uint8_t, void* user) {
    GrpcProbeSession& s = of(user);
    if (frame->hd.stream_id != s.stream_) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), nameLength);
    const std::string_view v(reinterpret_cast<const char*>(value), valueLength);
    if (n == ":status") {
      s.answer_.httpStatus = std::atoi(std::string(v).c_str());
    } else if (n == "content-type") {
      s.answer_.contentType = std::string(v);
    } else if (n == "grpc-status") {
      s.answer_.grpcStatus = std::atoi(std::string(v).c_str());
    } else if (n == "grpc-message") {
      s.answer_.grpcMessage = std::string(v.substr(0, 512));
    }
    return 0;
  }

  static int onData(nghttp2_session* session, std::uint8_t, std::int32_t id,
                    const std::uint8_t* data, std::size_t size, void* user) {
    GrpcProbeSession& s = of(user);
    if (id != s.stream_) return 0;
    if (s.answer_.body.size() + size > kMaxBody) {
      s.failure_ = "grpc: answer over 16 KiB";
      return nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    }
    s.answer_.body.append(reinterpret_cast<const char*>(data), size);
    return 0;
  }

  static int onClose(nghttp2_session*, std::int32_t id, std::uint32_t error, void* user) {
    GrpcProbeSession& s = of(user);
    if (id != s.stream_) return 0;
    s.answer_.ended = true;
    s.answer_.reset = error;
    return 0;
  }

  /// A connection error nghttp2 answers with GOAWAY rather than a failed mem_recv: the first
  /// one is the verdict (a target that answers the preface with HTTP/1.1 lands here).
  static int onError(nghttp2_session*, int code, const char*, std::size_t, void* user) {
    GrpcProbeSession& s = of(user);
    if (s.failure_.empty() && !s.answer_.ended)
      s.failure_ = code == NGHTTP2_ERR_SETTINGS_EXPECTED
                       ? "grpc: not an HTTP/2 answer"
                       : std::string("grpc: HTTP/2 error: ") + nghttp2_strerror(code);
    return 0;
  }

  static ssize_t readBody(nghttp2_session*, std::int32_t, std::uint8_t* buffer, std::size_t length,
                          std::uint32_t* flags, nghttp2_data_source*, void* user) {
    GrpcProbeSession& s = of(user);
    const std::size_t n = std::min(length, s.body_.size() - s.bodySent_);
    std::copy_n(reinterpret_cast<const std::uint8_t*>(s.body_.data()) + s.bodySent_, n, buffer);
    s.bodySent_ += n;
    if (s.bodySent_ == s.body_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

GrpcProbeSession::GrpcProbeSession(const std::string& authority, bool tls, const HealthSpec& spec)
    : body_(GrpcHealthCodec::request(spec.grpcService)) {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    failure_ = "grpc: out of memory";
    return;
  }
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::onData);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::onClose);
  nghttp2_session_callbacks_set_error_callback2(callbacks, Callbacks::onError);
  const int rc = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rc != 0) {
    session_ = nullptr;
    failure_ = "grpc: cannot set up an HTTP/2 session";
    return;
  }
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
  const std::string timeout = GrpcHealthCodec::timeoutHeader(spec.timeout);
  const nghttp2_nv fields[] = {
      field(":method", "POST"),
      field(":scheme", tls ? "https" : "http"),
      field(":path", GrpcHealthCodec::kPath),
      field(":authority", authority),
      field("content-type", "application/grpc"),
      field("te", "trailers"),
      field("grpc-timeout", timeout),
      field("user-agent", "portico-health"),
  };
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::readBody;
  stream_ = nghttp2_submit_request(session_, nullptr, fields, sizeof fields / sizeof fields[0],
                                   &provider, nullptr);
  if (stream_ < 0) failure_ = std::string("grpc: ") + nghttp2_strerror(stream_);
}

GrpcProbeSession::~GrpcProbeSession() {
  if (session_) nghttp2_session_del(session_);
}

bool GrpcProbeSession::output(std::string& out) {
  if (!failure_.empty()) return false;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      failure_ = std::string("grpc: ") + nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) return true;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

bool GrpcProbeSession::input(const char* data, std::size_t size) {
  if (!failure_.empty()) return false;
  // A target that does not speak HTTP/2 (an HTTP/1.x server answers the preface with an error).
  const ssize_t used =
      nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), size);
  if (used < 0) {
    failure_ = std::string("grpc: HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(used));
    return false;
  }
  return failure_.empty();
}

std::optional<ProbeResult> GrpcProbeSession::result() const {
  if (!failure_.empty()) return ProbeResult::failure(failure_);
  if (!answer_.ended) return std::nullopt;
  return GrpcHealthCodec::verdict(answer_);
}

ProbeResult GrpcProbeSession::closed() const {
  if (auto r = result()) return *r;
  return ProbeResult::failure(answer_.httpStatus == 0
                                  ? "grpc: connection closed before an answer"
                                  : "grpc: connection closed before the call ended");
}

}  // namespace portico
