#include "net/Tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstring>
#include <ctime>
#include <stdexcept>

namespace portico::net {

void SslFree::operator()(ssl_st* ssl) const {
  SSL_free(ssl);
}
void SslFree::operator()(ssl_ctx_st* ctx) const {
  SSL_CTX_free(ctx);
}
void SslFree::operator()(ssl_session_st* session) const {
  SSL_SESSION_free(session);
}

std::string sslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    // "error:0A000086:SSL routines::certificate verify failed" -> the reason at the end.
    const char* reason = std::strrchr(text, ':');
    if (!out.empty()) out += "; ";
    out += reason && reason[1] ? reason + 1 : text;
  }
  return out.empty() ? "unknown TLS error" : out;
}

namespace {

// Mozilla's "intermediate" configuration (TLS 1.2 ciphers; TLS 1.3 uses OpenSSL's defaults,
// which are the same three suites).
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

/// ALPN: h2 when the listener speaks it and the client offers it, else http/1.1 (a client that
/// offers neither still gets HTTP/1.1, without ALPN).
int selectProtocol(SSL*, const unsigned char** out, unsigned char* outLength,
                   const unsigned char* in, unsigned int inLength, void* arg) {
  const bool http2 = arg != nullptr;
  static const unsigned char kH2[] = {'h', '2'};
  static const unsigned char kH11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  const unsigned char* h11 = nullptr;
  for (unsigned int i = 0; i < inLength;) {
    const unsigned int n = in[i];
    if (i + 1 + n > inLength) break;
    const unsigned char* name = in + i + 1;
    if (http2 && n == sizeof kH2 && std::memcmp(name, kH2, n) == 0) {
      *out = name;
      *outLength = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    if (n == sizeof kH11 && std::memcmp(name, kH11, n) == 0) h11 = name;
    i += 1 + n;
  }
  if (h11) {
    *out = h11;
    *outLength = sizeof kH11;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// The DNS names a certificate is for (subjectAltName, else its common name).
std::vector<std::string> certificateNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const auto* data = ASN1_STRING_get0_data(n->d.dNSName);
      names.push_back(
          lower(std::string_view(reinterpret_cast<const char*>(data),
                                 static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      names.push_back(lower(cn));
  }
  return names;
}

/// A certificate's notAfter as Unix time (0 when unreadable).
std::int64_t expiry(X509* cert) {
  std::tm tm{};
  if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<std::int64_t>(::timegm(&tm));
}

}  // namespace

struct TlsServerConfig::Entry {
  SslContextPtr ctx;
  std::vector<std::string> names;
};

std::shared_ptr<const TlsServerConfig> TlsServerConfig::load(
    const std::vector<CertificateFiles>& files, bool http2) {
  if (files.empty()) throw std::runtime_error("no certificate given");
  std::shared_ptr<TlsServerConfig> config(new TlsServerConfig());
  config->http2_ = http2;
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.key.c_str(), &st) != 0)
      throw std::runtime_error("key '" + f.key + "': " + std::strerror(errno));
    // As sshd refuses a private key others can read.
    if (st.st_mode & (S_IROTH | S_IWOTH))
      throw std::runtime_error("key '" + f.key + "' is readable by others (chmod o-rw it)");
    SslContextPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) throw std::runtime_error("cannot create a TLS context: " + sslErrors());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx.get(), kCiphers);
    SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    // Idle connections give their 16 KiB record buffers back (thousands of idle TLS clients).
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
    static const unsigned char kSessionContext[] = "portico";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), f.certificate.c_str()) != 1)
      throw std::runtime_error("certificate '" + f.certificate + "': " + sslErrors());
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), f.key.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("key '" + f.key + "': " + sslErrors());
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
      throw std::runtime_error("key '" + f.key + "' does not match certificate '" + f.certificate +
                               "'");
    SSL_CTX_set_alpn_select_cb(ctx.get(), selectProtocol, http2 ? config.get() : nullptr);
    auto entry = std::make_unique<Entry>();
    entry->names = certificateNames(SSL_CTX_get0_certificate(ctx.get()));
    for (const auto& n : entry->names) config->names_.push_back(n);
    config->certificates_.push_back({f.certificate,
                                     entry->names.empty() ? std::string() : entry->names.front(),
                                     expiry(SSL_CTX_get0_certificate(ctx.get()))});
    entry->ctx = std::move(ctx);
    config->entries_.push_back(std::move(entry));
  }
  // The first context answers first; the client's server name picks the right one.
  for (auto& e : config->entries_) {
    SSL_CTX_set_tlsext_servername_callback(e->ctx.get(), selectCertificate);
    SSL_CTX_set_tlsext_servername_arg(e->ctx.get(), config.get());
  }
  return config;
}

TlsServerConfig::~TlsServerConfig() = default;

ssl_ctx_st* TlsServerConfig::contextFor(std::string_view requested) const {
  const std::string name = lower(requested);
  for (const auto& e : entries_)
    for (const auto& n : e->names)
      if (n == name) return e->ctx.get();
  // "*.example.com" covers exactly one label.
  const std::size_t dot = name.find('.');
  if (dot != std::string::npos && dot > 0) {
    const std::string wildcard = "*" + name.substr(dot);
    for (const auto& e : entries_)
      for (const auto& n : e->names)
        if (n == wildcard) return e->ctx.get();
  }
  return entries_.front()->ctx.get();
}

int TlsServerConfig::selectCertificate(SSL* ssl, int*, void* arg) {
  const auto* config = static_cast<const TlsServerConfig*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name && *name) {
    SSL_CTX* ctx = config->contextFor(name);
    if (ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  }
  return SSL_TLSEXT_ERR_OK;
}

SslPtr TlsServerConfig::newSession() const {
  SslPtr ssl(SSL_new(entries_.front()->ctx.get()));
  if (ssl) SSL_set_accept_state(ssl.get());
  return ssl;
}

TlsClientConfig::TlsClientConfig(bool verify, const std::string& caFile)
    : ctx_(SSL_CTX_new(TLS_client_method())), verify_(verify) {
  if (!ctx_) throw std::runtime_error("cannot create a TLS context: " + sslErrors());
  SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_CLIENT);
  if (verify_) {
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    const int ok = caFile.empty()
                       ? SSL_CTX_set_default_verify_paths(ctx_.get())
                       : SSL_CTX_load_verify_locations(ctx_.get(), caFile.c_str(), nullptr);
    if (ok != 1)
      throw std::runtime_error("CA bundle '" + (caFile.empty() ? std::string("(system)") : caFile) +
                               "': " + sslErrors());
  } else {
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
  }
}

TlsClientConfig::~TlsClientConfig() = default;

SslPtr TlsClientConfig::newSession(const std::string& host, ssl_session_st* resume,
                                   ClientAlpn alpn) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) return ssl;
  SSL_set_connect_state(ssl.get());
  in6_addr ip6{};
  in_addr ip4{};
  const bool literal = ::inet_pton(AF_INET, host.c_str(), &ip4) == 1 ||
                       ::inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
  // SNI carries names, never addresses (RFC 6066).
  if (!literal) SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  if (verify_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    if (literal) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl.get(), host.c_str());
    }
  }
  // ALPN's wire format: each protocol name after its length.
  static const unsigned char kH11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  static const unsigned char kH2[] = {2, 'h', '2'};
  static const unsigned char kBoth[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  switch (alpn) {
    case ClientAlpn::Http11:
      SSL_set_alpn_protos(ssl.get(), kH11, sizeof kH11);
      break;
    case ClientAlpn::H2:
      SSL_set_alpn_protos(ssl.get(), kH2, sizeof kH2);
      break;
    case ClientAlpn::H2OrHttp11:
      SSL_set_alpn_protos(ssl.get(), kBoth, sizeof kBoth);
      break;
  }
  if (resume) SSL_set_session(ssl.get(), resume);
  return ssl;
}

std::string_view negotiatedProtocol(const ssl_st* ssl) {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &data, &length);
  return data ? std::string_view(reinterpret_cast<const char*>(data), length) : std::string_view();
}

std::string handshakeError(const ssl_st* ssl) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  }
  return "TLS handshake failed: " + sslErrors();
}

}  // namespace portico::net
