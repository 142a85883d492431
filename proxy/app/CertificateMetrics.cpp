#include "app/CertificateMetrics.h"

#include "metrics/Exposition.h"
#include "net/Tls.h"

namespace portico {

std::string certificateMetrics(const net::TlsServerConfig* config) {
  if (!config) return "";
  metrics::Exposition out;
  out.family("portico_tls_certificate_expiry_timestamp_seconds",
             "When each certificate of the TLS listener expires (notAfter, Unix time).", "gauge");
  for (const auto& c : config->certificates())
    out.sample("portico_tls_certificate_expiry_timestamp_seconds",
               {{"certificate", c.file}, {"name", c.name}}, c.notAfter);
  return out.take();
}

}  // namespace portico
