#pragma once

#include <string>
#include <string_view>

struct ssl_st;

namespace portico {

/// Whether the certificate a TLS connection presented covers a request's host (its DNS names,
/// wildcards as RFC 6125 allows, or its IP addresses). HTTP/2 lets a client reuse a connection
/// for every host the certificate covers (RFC 9113 9.1.1), so a request for any other host
/// was misdirected and gets 421 (RFC 9110 15.5.20) rather than another site's answer. The last
/// host asked about is remembered: a connection's streams nearly always name the same one.
class CertificateCover {
 public:
  explicit CertificateCover(ssl_st* ssl) : ssl_(ssl) {}

  /// `host` as RequestHost leaves it (lowercase, no port; IPv6 in brackets). An empty host, or
  /// a connection without a certificate, is covered (nothing to check against).
  bool covers(std::string_view host);

 private:
  ssl_st* ssl_;
  std::string lastHost_;
  bool lastCovered_{true};
};

}  // namespace portico
