#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <memory>
#include <string>

#include "config/Settings.h"

namespace portico {
class ProxyMetrics;
}

namespace portico {

/// The Portico data plane as a component a POCO HTTPServer mounts (like an nginx module):
/// requests under the store's route prefixes are proxied to their targets, every other request
/// goes to the application's own factory (or gets a 404 JSON without one). It follows the
/// store on its own thread and never writes to it.
///
///   auto proxy = Poco::makeShared<portico::ProxyModule>(settings, myFactory);
///   Poco::Net::HTTPServer server(proxy, threadPool, socket, params);
///
/// The host process should ignore SIGPIPE (the module does so when constructed).
class ProxyModule : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  /// Reads the store of `settings.storeLocation()` (waiting for it if absent or unreachable) with
  /// the `settings.proxy` timeouts, trusted proxies, access log and reload interval. Throws
  /// StoreError when the store exists but cannot be used (e.g. a schema newer than this binary),
  /// ConfigError for unusable proxy settings.
  explicit ProxyModule(const Settings& settings,
                       Poco::Net::HTTPRequestHandlerFactory::Ptr fallback = nullptr);
  ~ProxyModule() override;
  ProxyModule(const ProxyModule&) = delete;
  ProxyModule& operator=(const ProxyModule&) = delete;

  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

  /// Stops following the store (requests are still served from the last snapshot).
  void stop();

  /// Reopens the access-log file by its name (after logrotate moved it away). Returns the
  /// error when it cannot be opened; the old file stays in use then.
  std::string reopenLogs();

  /// The module's metrics (/metrics of the status listener); counted by every request unless
  /// `settings.proxy.statusEnabled` is false.
  ProxyMetrics& metrics();
  /// True once a route table has been read from the store (/readyz).
  bool ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico
