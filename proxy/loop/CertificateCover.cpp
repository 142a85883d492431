#include "loop/CertificateCover.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace portico {
namespace {

bool isIpv4(std::string_view host) {
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

bool check(X509* certificate, std::string_view host) {
  if (host.front() == '[') {
    const std::string ip(host.substr(1, host.size() - 2));
    return X509_check_ip_asc(certificate, ip.c_str(), 0) == 1;
  }
  if (isIpv4(host)) return X509_check_ip_asc(certificate, std::string(host).c_str(), 0) == 1;
  return X509_check_host(certificate, host.data(), host.size(), 0, nullptr) == 1;
}

}  // namespace

bool CertificateCover::covers(std::string_view host) {
  if (host.empty() || !ssl_) return true;
  if (host == lastHost_) return lastCovered_;
  // After SNI chose a context, the connection's certificate is that context's.
  X509* certificate = SSL_get_certificate(ssl_);
  lastHost_.assign(host);
  lastCovered_ = !certificate || check(certificate, host);
  return lastCovered_;
}

}  // namespace portico
