#pragma once

#include <Poco/Net/TCPServer.h>
#include <Poco/SharedPtr.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "ProxyConnection.h"
#include "ProxyModule.h"
#include "Settings.h"

namespace portico {

/// The standalone data-plane server: the ProxyModule mounted in a POCO HTTPServer sized for
/// thread-per-connection serving (own thread pool of proxy.threads, accept queue proxy.queue,
/// a listening socket without SO_REUSEPORT so a second instance fails to bind).
class ProxyServer {
 public:
  /// Binds the listener; throws Poco::Exception (e.g. address in use) or the module's errors.
  explicit ProxyServer(const Settings& settings);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  void start();
  /// Stops accepting and following the store, closes idle connections and gives requests in
  /// progress `grace` to finish. False when some are still running (stuck on a slow upstream):
  /// the caller should then end the process rather than wait for them.
  bool stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  std::uint16_t port() const { return port_; }
  /// See ProxyModule::reopenLogs().
  std::string reopenLogs() { return module_->reopenLogs(); }
  ProxyModule& module() { return *module_; }

 private:
  void watchQueue();  // offers drain tokens while connections wait for a thread

  std::unique_ptr<Poco::ThreadPool> pool_;
  Poco::SharedPtr<ProxyModule> module_;
  Poco::SharedPtr<ProxyConnectionFactory> connections_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
  std::uint16_t port_{0};
  std::thread queueWatch_;
  std::mutex watchMutex_;
  std::condition_variable watchWake_;
  bool watchStop_{false};
  bool stopped_{false};
  bool drained_{true};
};

}  // namespace portico
