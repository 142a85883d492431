#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "Model.h"

namespace Poco::Util {
class AbstractConfiguration;
}

namespace portico {

/// Data-plane listener, upstream timeouts and logging (`proxy.*`).
struct ProxySettings {
  std::string host{"0.0.0.0"};
  int port{8080};
  std::chrono::milliseconds reloadInterval{100};
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds readTimeout{30000};
  int threads{1200};  // one per concurrent client connection, idle keep-alive ones included
  int queue{4096};
  std::string accessLog{"stdout"};  // "stdout", "off" or a file path
  std::vector<std::string> trustedProxies{"127.0.0.1", "::1"};
};

/// Admin API listener (`admin.*`).
struct AdminSettings {
  std::string host{"127.0.0.1"};
  int port{9090};
  std::string prefix{"/endpoints"};  // no trailing slash
  std::string token;
};

/// A route declared in configuration (`route.<name>.*`), the seed of the store.
struct RouteSeed {
  std::string name;
  RouteSpec spec;
};

/// Every configuration key of DESIGN.md, validated.
struct Settings {
  std::string storePath{"data/portico.db"};
  std::int64_t historyLimit{100000};  // store.history_limit: rows the change history keeps
  ProxySettings proxy;
  AdminSettings admin;
  HealthSpec health;
  std::vector<RouteSeed> routes;

  /// Reads and validates; throws ConfigError naming the first bad key.
  static Settings load(const Poco::Util::AbstractConfiguration& config);
  /// Throws ConfigError for a top-level key outside store/proxy/admin/health/route (a typo such
  /// as `helth.interval`). Applied to the user's layers only: POCO adds `application.*` itself.
  static void rejectUnknownSections(const Poco::Util::AbstractConfiguration& layer);
};

}  // namespace portico
