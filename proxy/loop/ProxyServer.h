#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/Settings.h"
#include "loop/ProxyLoop.h"
#include "loop/TlsConfigSlot.h"
#include "net/Socket.h"
#include "runtime/ProxyRuntime.h"

namespace portico {

/// Listening sockets the server was handed (systemd, a binary upgrade) instead of binding
/// proxy.port and proxy.tls.port; empty ones are bound as configured.
struct ProxyListeners {
  std::vector<net::FileDescriptor> plain;
  std::vector<net::FileDescriptor> tls;
};

/// The standalone data-plane server: `proxy.workers` event loops (one per core by default) on
/// one listening socket, each serving its own clients with its own upstream pools.
class ProxyServer {
 public:
  /// Binds the listener (reuse-port off: a second instance fails here) and reads the first
  /// route table. Throws std::system_error (address in use), StoreError or ConfigError.
  /// Loops take the `inherited` sockets in turn (there are at least as many loops as sockets:
  /// each must be watched, or its queue would never be served).
  explicit ProxyServer(const Settings& settings, ProxyListeners inherited = {});
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  void start();
  /// Stops accepting (new connections are refused), closes idle connections and lets requests
  /// in flight finish within `grace`. False when some were still running at the end (the
  /// caller should then exit rather than wait for them).
  /// `idleGrace`: see ProxyLoop::beginDrain (a binary upgrade's drain).
  bool stop(std::chrono::milliseconds grace,
            std::chrono::milliseconds idleGrace = std::chrono::milliseconds(0));
  std::uint16_t port() const { return port_; }
  /// The HTTPS listener's port (0 without one).
  std::uint16_t tlsPort() const { return tlsPort_; }
  /// SIGHUP: reads the certificates again; new connections get them, open ones keep theirs. A
  /// file that does not load keeps the old certificates (and logs one line why).
  void reloadCertificates();
  /// The certificates in use (null without a TLS listener), for their expiry metric.
  std::shared_ptr<const net::TlsServerConfig> tlsConfig() const {
    return tls_ ? tls_->get() : nullptr;
  }
  std::size_t workers() const { return loops_.size(); }
  /// The listening sockets (plain, then HTTPS), for a binary upgrade to pass on.
  std::vector<int> listenerFds() const { return fds(listeners_); }
  std::vector<int> tlsListenerFds() const { return fds(tlsListeners_); }
  /// For the service watchdog: true when every loop ran the check posted by the previous call
  /// (so none has been stuck since); posts the next one.
  bool loopsAnswering();
  /// Reopens the access-log file by its name; returns the error ("" when done).
  std::string reopenLogs() { return runtime_->reopenLogs(); }
  /// For the status listener: the data plane's metrics and readiness.
  ProxyMetrics& metrics() { return runtime_->metrics(); }
  bool ready() const { return runtime_->ready(); }

 private:
  static std::vector<int> fds(const std::vector<net::FileDescriptor>& sockets);
  void dropTargets(const std::vector<std::shared_ptr<TargetState>>& targets);

  std::vector<std::unique_ptr<ProxyLoop>> loops_;
  std::unique_ptr<ProxyRuntime> runtime_;
  std::vector<net::FileDescriptor> listeners_;  // one per loop (SO_REUSEPORT)
  std::uint16_t port_{0};
  std::vector<net::FileDescriptor> tlsListeners_;
  std::uint16_t tlsPort_{0};
  std::vector<net::CertificateFiles> certificateFiles_;
  bool http2_{true};
  std::unique_ptr<TlsConfigSlot> tls_;
  std::vector<std::thread> threads_;
  bool stopped_{false};
  bool drained_{true};
  std::unique_ptr<std::atomic<bool>[]> answered_;  // per loop: loopsAnswering()'s last post ran
};

}  // namespace portico
