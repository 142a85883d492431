#pragma once

// TLS helpers for end-to-end tests: certificates made with the openssl command (no key is ever
// committed), a TLS client that shows what the server presented, and a minimal HTTP/2 client.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;

namespace portico::test {

/// A test CA and certificates it signs, as PEM files in `dir` (keys mode 0600).
class TestCertificates {
 public:
  /// Creates the CA (ca.pem, ca.key) in `dir`.
  explicit TestCertificates(std::string dir);
  /// Issues NAME.pem / NAME.key for the DNS names and IP addresses given (the first is the CN).
  void issue(const std::string& name, const std::vector<std::string>& dnsNames,
             const std::vector<std::string>& ips = {});
  std::string certificate(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  std::string ca() const { return dir_ + "/ca.pem"; }

 private:
  std::string dir_;
};

/// One TLS connection to 127.0.0.1:port: the handshake, then raw bytes.
class TlsClient {
 public:
  /// `serverName`: SNI (empty: none); `alpn`: protocols offered (empty: no ALPN);
  /// `handshakeAfter`: how long the client stays silent between connecting and its hello (a
  /// slow client).
  TlsClient(int port, const std::string& serverName, const std::vector<std::string>& alpn,
            std::chrono::milliseconds handshakeAfter = std::chrono::milliseconds(0));
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }
  /// The common name of the certificate the server presented.
  std::string peerCommonName() const;
  std::string protocol() const;  // ALPN result
  bool send(const std::string& bytes);
  /// Reads until `marker` was seen, the end, or `timeout`.
  std::string readUntil(const std::string& marker,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// One read of what arrives within `timeout` (empty at the end or on timeout).
  std::string readSome(std::chrono::milliseconds timeout);
  bool closed() const { return closed_; }
  ssl_st* ssl() const { return ssl_; }
  int fd() const { return fd_; }

 private:
  int fd_{-1};
  ssl_ctx_st* ctx_{nullptr};
  ssl_st* ssl_{nullptr};
  bool connected_{false};
  bool closed_{false};
  std::string error_;
  std::string data_;
};

/// A minimal HTTP/2 client (nghttp2) over a TlsClient that negotiated h2.
class Http2TestClient {
 public:
  explicit Http2TestClient(TlsClient& tls);
  ~Http2TestClient();
  Http2TestClient(const Http2TestClient&) = delete;
  Http2TestClient& operator=(const Http2TestClient&) = delete;

  /// Starts a GET; returns the stream id.
  std::int32_t get(const std::string& path, const std::string& authority = "localhost");
  /// Starts a request with more header fields (lower-case names) and a body (sent whole, the
  /// stream ended after it; no content-length unless given in `fields`); returns the stream id.
  std::int32_t request(const std::string& method, const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& fields,
                       const std::string& body = "", const std::string& authority = "localhost");
  /// Resets a stream the client opened.
  void reset(std::int32_t stream);
  /// Exchanges frames until every stream not reset has its answer, or `timeout`.
  bool runUntilDone(std::chrono::milliseconds timeout);
  /// Status of each answered stream.
  const std::map<std::int32_t, int>& statuses() const { return statuses_; }
  std::size_t answered() const { return done_.size(); }

  // For nghttp2's callbacks.
  std::map<std::int32_t, int> statuses_;
  std::map<std::int32_t, bool> done_;
  std::map<std::int32_t, bool> open_;
  /// The response header fields (pseudo-headers left out) and body of each stream.
  std::map<std::int32_t, std::vector<std::pair<std::string, std::string>>> headers_;
  std::map<std::int32_t, std::string> bodies_;
  /// Request bodies still being sent: the bytes and how many went.
  std::map<std::int32_t, std::pair<std::string, std::size_t>> sending_;

 private:
  bool pump();
  TlsClient& tls_;
  void* session_{nullptr};
};

}  // namespace portico::test
