#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;

namespace portico::net {

/// The OpenSSL objects the TLS layer passes around, freed by RAII.
struct SslFree {
  void operator()(ssl_st* ssl) const;
  void operator()(ssl_ctx_st* ctx) const;
  void operator()(ssl_session_st* session) const;
};
using SslPtr = std::unique_ptr<ssl_st, SslFree>;
using SslContextPtr = std::unique_ptr<ssl_ctx_st, SslFree>;
using SslSessionPtr = std::unique_ptr<ssl_session_st, SslFree>;

/// The last OpenSSL errors as one line (and the error queue emptied).
std::string sslErrors();

/// One certificate (with its chain) and its private key, as PEM files.
struct CertificateFiles {
  std::string certificate;
  std::string key;
};

/// What a TLS listener serves: one server context per certificate, chosen by the name the client
/// asks for (SNI: the exact name, then a wildcard; the first certificate otherwise). TLS 1.2 and
/// 1.3 only, Mozilla's "intermediate" ciphers, session resumption on, ALPN h2 (when enabled)
/// then http/1.1. Immutable once loaded: reloading builds a new one, and connections keep the
/// one they started with.
class TlsServerConfig {
 public:
  /// Reads and checks every pair; throws std::runtime_error naming the file and the problem
  /// (unreadable, not a certificate, key not matching, key readable by others).
  static std::shared_ptr<const TlsServerConfig> load(const std::vector<CertificateFiles>& files,
                                                     bool http2);
  ~TlsServerConfig();
  TlsServerConfig(const TlsServerConfig&) = delete;
  TlsServerConfig& operator=(const TlsServerConfig&) = delete;

  /// A new server-side session for one accepted connection.
  SslPtr newSession() const;
  /// The names the certificates cover (for the start-up log line).
  const std::vector<std::string>& names() const { return names_; }
  /// One loaded certificate: its file, the first name it covers, when it expires (Unix time).
  struct Certificate {
    std::string file;
    std::string name;
    std::int64_t notAfter{0};
  };
  const std::vector<Certificate>& certificates() const { return certificates_; }

 private:
  struct Entry;
  TlsServerConfig() = default;
  static int selectCertificate(ssl_st* ssl, int* alert, void* arg);
  ssl_ctx_st* contextFor(std::string_view name) const;

  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::string> names_;
  std::vector<Certificate> certificates_;
  bool http2_{false};
};

/// What a client-side session offers by ALPN: HTTP/1.1 (the default), h2 alone (a route whose
/// targets must speak HTTP/2), or both, h2 first (the target picks).
enum class ClientAlpn { Http11, H2, H2OrHttp11 };

/// How the proxy speaks TLS to https targets: the system's CA store (or a bundle), verification
/// on unless turned off, TLS 1.2+. Shared by every connection of the process.
class TlsClientConfig {
 public:
  /// Throws std::runtime_error for an unreadable CA bundle.
  TlsClientConfig(bool verify, const std::string& caFile);
  ~TlsClientConfig();
  TlsClientConfig(const TlsClientConfig&) = delete;
  TlsClientConfig& operator=(const TlsClientConfig&) = delete;

  /// A client-side session for a connection to `host` (SNI and the name the certificate must
  /// carry), resuming `resume` when given, offering `alpn`.
  SslPtr newSession(const std::string& host, ssl_session_st* resume,
                    ClientAlpn alpn = ClientAlpn::Http11) const;
  bool verifies() const { return verify_; }

 private:
  SslContextPtr ctx_;
  bool verify_;
};

/// The protocol ALPN settled on for a connection ("h2", "http/1.1" or "").
std::string_view negotiatedProtocol(const ssl_st* ssl);
/// Why a handshake failed, for a 502's message and lastError: the verification result when there
/// is one, else OpenSSL's error queue.
std::string handshakeError(const ssl_st* ssl);

}  // namespace portico::net
