#include "support/TlsTestSupport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace portico::test {
namespace {

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("failed: " + command);
}

}  // namespace

TestCertificates::TestCertificates(std::string dir) : dir_(std::move(dir)) {
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=portico-test-ca -keyout " +
      dir_ + "/ca.key -out " + dir_ + "/ca.pem");
  ::chmod((dir_ + "/ca.key").c_str(), 0600);
}

void TestCertificates::issue(const std::string& name, const std::vector<std::string>& dnsNames,
                             const std::vector<std::string>& ips) {
  std::string san;
  for (const auto& d : dnsNames) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& i : ips) san += (san.empty() ? "" : ",") + std::string("IP:") + i;
  const std::string cn = dnsNames.empty() ? ips.front() : dnsNames.front();
  const std::string base = dir_ + "/" + name;
  {
    std::ofstream ext(base + ".ext");
    ext << "subjectAltName=" << san << "\n";
  }
  run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + cn + " -keyout " + base + ".key -out " +
      base + ".csr");
  run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + dir_ + "/ca.pem -CAkey " + dir_ +
      "/ca.key -CAcreateserial -extfile " + base + ".ext -out " + base + ".pem");
  ::chmod((base + ".key").c_str(), 0600);
}

TlsClient::TlsClient(int port, const std::string& serverName, const std::vector<std::string>& alpn,
                     std::chrono::milliseconds handshakeAfter) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error_ = "connect failed";
    return;
  }
  timeval tv{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (handshakeAfter.count() > 0) std::this_thread::sleep_for(handshakeAfter);
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (!serverName.empty()) SSL_set_tlsext_host_name(ssl_, serverName.c_str());
  if (!alpn.empty()) {
    std::string wire;
    for (const auto& p : alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  if (SSL_connect(ssl_) != 1) {
    char text[256];
    ERR_error_string_n(ERR_get_error(), text, sizeof text);
    error_ = text;
    return;
  }
  connected_ = true;
}

TlsClient::~TlsClient() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

std::string TlsClient::peerCommonName() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return "";
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

std::string TlsClient::protocol() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  return data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

bool TlsClient::send(const std::string& bytes) {
  return connected_ && SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
                           static_cast<int>(bytes.size());
}

std::string TlsClient::readSome(std::chrono::milliseconds timeout) {
  if (!connected_ || closed_) return "";
  if (SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
  }
  char buf[16384];
  const int n = SSL_read(ssl_, buf, sizeof buf);
  if (n <= 0) {
    closed_ = true;
    return "";
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string TlsClient::readUntil(const std::string& marker, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (data_.find(marker) == std::string::npos && !closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    data_ += readSome(left);
  }
  return data_;
}

// --- HTTP/2 ---------------------------------------------------------------------------------

namespace {

nghttp2_session* sessionOf(void* p) {
  return static_cast<nghttp2_session*>(p);
}

int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
             std::size_t nameLength, const std::uint8_t* value, std::size_t valueLength,
             std::uint8_t, void* user) {
  auto* c = static_cast<Http2TestClient*>(user);
  const std::string n(reinterpret_cast<const char*>(name), nameLength);
  const std::string v(reinterpret_cast<const char*>(value), valueLength);
  if (frame->hd.type == NGHTTP2_HEADERS && n == ":status")
    c->statuses_[frame->hd.stream_id] = std::atoi(v.c_str());
  else if (frame->hd.type == NGHTTP2_HEADERS && !n.empty() && n[0] != ':')
    c->headers_[frame->hd.stream_id].emplace_back(n, v);
  return 0;
}

int onData(nghttp2_session*, std::uint8_t, std::int32_t stream, const std::uint8_t* data,
           std::size_t length, void* user) {
  static_cast<Http2TestClient*>(user)->bodies_[stream].append(reinterpret_cast<const char*>(data),
                                                              length);
  return 0;
}

ssize_t readBody(nghttp2_session*, std::int32_t stream, std::uint8_t* buffer, std::size_t length,
                 std::uint32_t* flags, nghttp2_data_source*, void* user) {
  auto& [body, sent] = static_cast<Http2TestClient*>(user)->sending_[stream];
  const std::size_t n = std::min(length, body.size() - sent);
  std::memcpy(buffer, body.data() + sent, n);
  sent += n;
  if (sent == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

int onClose(nghttp2_session*, std::int32_t stream, std::uint32_t, void* user) {
  auto* c = static_cast<Http2TestClient*>(user);
  if (c->open_.count(stream)) c->done_[stream] = true;
  return 0;
}

}  // namespace

Http2TestClient::Http2TestClient(TlsClient& tls) : tls_(tls) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onClose);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onData);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  session_ = session;
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
}

Http2TestClient::~Http2TestClient() {
  nghttp2_session_del(sessionOf(session_));
}

std::int32_t Http2TestClient::get(const std::string& path, const std::string& authority) {
  auto nv = [](const char* n, const std::string& v) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(n)),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())),
                      std::char_traits<char>::length(n), v.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const std::string get = "GET";
  const std::string https = "https";
  const nghttp2_nv headers[] = {nv(":method", get), nv(":scheme", https),
                                nv(":authority", authority), nv(":path", path)};
  const std::int32_t id =
      nghttp2_submit_request(sessionOf(session_), nullptr, headers, 4, nullptr, nullptr);
  open_[id] = true;
  pump();
  return id;
}

std::int32_t Http2TestClient::request(
    const std::string& method, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& fields, const std::string& body,
    const std::string& authority) {
  auto nv = [](const std::string& n, const std::string& v) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(),
                      v.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const std::vector<std::pair<std::string, std::string>> pseudo = {
      {":method", method}, {":scheme", "https"}, {":authority", authority}, {":path", path}};
  std::vector<nghttp2_nv> headers;
  for (const auto& [n, v] : pseudo) headers.push_back(nv(n, v));
  for (const auto& [n, v] : fields) headers.push_back(nv(n, v));
  nghttp2_data_provider provider{};
  provider.read_callback = readBody;
  const std::int32_t id =
      nghttp2_submit_request(sessionOf(session_), nullptr, headers.data(), headers.size(),
                             body.empty() ? nullptr : &provider, nullptr);
  if (!body.empty()) sending_[id] = {body, 0};
  open_[id] = true;
  pump();
  return id;
}

void Http2TestClient::reset(std::int32_t stream) {
  open_.erase(stream);
  nghttp2_submit_rst_stream(sessionOf(session_), NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL);
  pump();
}

bool Http2TestClient::pump() {
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(sessionOf(session_), &data);
    if (n <= 0) return n == 0;
    if (!tls_.send(std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n))))
      return false;
  }
}

bool Http2TestClient::runUntilDone(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all = true;
    for (const auto& [id, open] : open_)
      if (!done_.count(id)) all = false;
    if (all) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || tls_.closed()) return false;
    const std::string bytes = tls_.readSome(std::min(left, std::chrono::milliseconds(200)));
    if (!bytes.empty() &&
        nghttp2_session_mem_recv(sessionOf(session_),
                                 reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                 bytes.size()) < 0)
      return false;
    if (!pump()) return false;
  }
}

}  // namespace portico::test
