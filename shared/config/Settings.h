#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/Log.h"
#include "model/Model.h"
#include "store/StoreLocation.h"

namespace Poco::Util {
class AbstractConfiguration;
}

namespace portico {

/// Data-plane listener, upstream timeouts and logging (`proxy.*`).
struct ProxySettings {
  std::string host{"0.0.0.0"};
  int port{8080};
  std::chrono::milliseconds reloadInterval{100};
  std::string id;  // proxy.id; empty: <hostname>:<the port it listens on>
  std::chrono::milliseconds heartbeatInterval{2000};
  std::chrono::milliseconds forgetAfter{3600000};
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds readTimeout{30000};
  int retryBuffer{64 * 1024};  // bytes of a request body kept for a retry (route policy retries)
  int workers{0};              // event loops; 0: one per core
  int threads{0};              // obsolete (the thread-per-connection server); accepted and ignored
  int queue{4096};             // listen backlog
  int maxConnections{16384};   // client connections held at once (past it, new ones wait)
  std::chrono::milliseconds keepAliveTimeout{75000};
  std::chrono::milliseconds clientHeaderTimeout{60000};
  std::chrono::milliseconds clientBodyTimeout{60000};
  std::chrono::milliseconds sendTimeout{60000};
  std::chrono::milliseconds drainTimeout{10000};
  int maxHeaderBytes{32 * 1024};
  std::string accessLog{"stdout"};         // "stdout", "off" or a file path
  std::string accessLogFormat{"portico"};  // "portico", "combined" or "json"
  double traceSample{0};  // share of the traces the proxy starts flagged sampled (0 to 1)
  std::vector<std::string> trustedProxies{"127.0.0.1", "::1"};
  // The status listener (/metrics, /healthz, /readyz), never the data-plane port.
  bool statusEnabled{true};  // false with proxy.status_port = off
  std::string statusHost{"127.0.0.1"};
  int statusPort{9091};
  /// The HTTPS listener (`proxy.tls.*`), off unless a port is set.
  struct Tls {
    bool enabled{false};
    std::string host;  // proxy.host unless set
    int port{0};
    std::vector<std::pair<std::string, std::string>> certificates;  // certificate, key files
    bool http2{true};
  } tls;
};

/// How the proxy speaks TLS to https:// targets (`upstream_tls.*`).
struct UpstreamTlsSettings {
  bool verify{true};
  std::string caFile;  // empty: the system's CA store
};

/// The operational log of both programs (`log.*`).
struct LogSettings {
  LogLevel level{LogLevel::Info};
  LogFormat format{LogFormat::Text};
};

/// Admin API listener (`admin.*`).
struct AdminSettings {
  std::string host{"127.0.0.1"};
  int port{9090};
  std::string prefix{"/endpoints"};  // no trailing slash
  std::string token;
  std::chrono::milliseconds clientHeaderTimeout{10000};  // the whole request head (else 408)
  std::chrono::milliseconds clientBodyTimeout{10000};    // between two reads of a body (else 408)
};

/// This sidecar among several on one store (`sidecar.id`, `health.lease_timeout`).
struct SidecarSettings {
  std::string id;  // default hostname:admin.port
  /// A health-check lease not renewed for this long is free for another sidecar to take.
  std::chrono::milliseconds leaseTimeout{10000};
  /// health.keepalive_max: probe connections kept open between http probes (0: none).
  std::size_t keepAliveMax{4096};
};

/// A route declared in configuration (`route.<name>.*`), the seed of the store.
struct RouteSeed {
  std::string name;
  RouteSpec spec;
};

/// Every configuration key (conf/portico.properties documents them), validated.
struct Settings {
  std::string storePath{"data/portico.db"};
  std::string storeUrl;  // store.url: a PostgreSQL connection URI; when set, used over storePath
  std::int64_t historyLimit{100000};  // store.history_limit: rows the change history keeps
  ProxySettings proxy;
  UpstreamTlsSettings upstreamTls;
  AdminSettings admin;
  SidecarSettings sidecar;
  HealthSpec health;
  LogSettings log;
  std::vector<RouteSeed> routes;

  StoreLocation storeLocation() const { return StoreLocation{storePath, storeUrl}; }

  /// Reads and validates; throws ConfigError naming the first bad key.
  static Settings load(const Poco::Util::AbstractConfiguration& config);
  /// Throws ConfigError for a top-level key outside store/proxy/admin/health/log/route (a typo such
  /// as `helth.interval`). Applied to the user's layers only: POCO adds `application.*` itself.
  static void rejectUnknownSections(const Poco::Util::AbstractConfiguration& layer);
  /// A --define value split at its first '=' into key and value; throws ConfigError naming
  /// --define when there is no key.
  static std::pair<std::string, std::string> parseDefine(const std::string& define);
};

}  // namespace portico
