#pragma once

#include <string>

namespace portico::net {
class TlsServerConfig;
}

namespace portico {

/// The TLS listener's certificates as Prometheus gauges, for the alert that fires before one
/// expires (docs/monitoring/alerts.yml): portico_tls_certificate_expiry_timestamp_seconds
/// {certificate="<file>", name="<first name it covers>"}, the notAfter of each certificate in use
/// (after a SIGHUP reload, the new ones). Empty without a TLS listener.
std::string certificateMetrics(const net::TlsServerConfig* config);

}  // namespace portico
