#include "loop/ProxyServer.h"

#include <sys/resource.h>

#include <algorithm>
#include <thread>

#include "balance/TargetState.h"
#include "base/Errors.h"
#include "base/Log.h"

namespace portico {
namespace {

/// Raises the open-file limit to its hard maximum, as nginx's worker_rlimit_nofile does: each
/// client connection costs a descriptor, and each busy one a second for its target.
void raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::size_t workerCount(const Settings& settings) {
  if (settings.proxy.workers > 0) return static_cast<std::size_t>(settings.proxy.workers);
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

ProxyServer::ProxyServer(const Settings& settings, ProxyListeners inherited) {
  raiseFileLimit();
  const std::size_t workers =
      std::max({workerCount(settings), inherited.plain.size(), inherited.tls.size()});
  if (settings.proxy.tls.enabled) {
    for (const auto& [certificate, key] : settings.proxy.tls.certificates)
      certificateFiles_.push_back({certificate, key});
    http2_ = settings.proxy.tls.http2;
    try {
      tls_ = std::make_unique<TlsConfigSlot>(net::TlsServerConfig::load(certificateFiles_, http2_));
    } catch (const std::runtime_error& e) {
      throw ConfigError("proxy.tls.certificates", e.what());
    }
  } else if (!inherited.tls.empty()) {
    throw ConfigError("proxy.tls.enabled", "an https socket was handed over, but TLS is off");
  }
  // One listening socket per loop: the kernel hashes new connections over them, so the loops
  // get even shares even when a thousand clients arrive at once.
  listeners_ =
      !inherited.plain.empty()
          ? std::move(inherited.plain)
          : net::listenGroup(settings.proxy.host, static_cast<std::uint16_t>(settings.proxy.port),
                             std::max(4096, settings.proxy.queue), workers);
  port_ = net::localPort(listeners_.front().get());
  if (tls_) {
    tlsListeners_ = !inherited.tls.empty()
                        ? std::move(inherited.tls)
                        : net::listenGroup(settings.proxy.tls.host,
                                           static_cast<std::uint16_t>(settings.proxy.tls.port),
                                           std::max(4096, settings.proxy.queue), workers);
    tlsPort_ = net::localPort(tlsListeners_.front().get());
  }
  runtime_ = std::make_unique<ProxyRuntime>(
      settings, workers,
      [this](const std::vector<std::shared_ptr<TargetState>>& gone) { dropTargets(gone); });
  ClientLimits limits;
  limits.headerTimeout = settings.proxy.clientHeaderTimeout;
  limits.bodyTimeout = settings.proxy.clientBodyTimeout;
  limits.sendTimeout = settings.proxy.sendTimeout;
  limits.keepAliveTimeout = settings.proxy.keepAliveTimeout;
  limits.maxHeaderBytes = static_cast<std::size_t>(settings.proxy.maxHeaderBytes);
  limits.maxConnections = std::max<std::size_t>(
      1, (static_cast<std::size_t>(settings.proxy.maxConnections) + workers - 1) / workers);
  // Inherited sockets may be fewer than the loops (systemd hands one): loops then share them.
  for (std::size_t i = 0; i < workers; ++i)
    loops_.push_back(std::make_unique<ProxyLoop>(
        i, runtime_->context(), runtime_->slot(), limits, listeners_[i % listeners_.size()].get(),
        tls_ ? tlsListeners_[i % tlsListeners_.size()].get() : -1, tls_.get()));
  answered_ = std::make_unique<std::atomic<bool>[]>(workers);
  for (std::size_t i = 0; i < workers; ++i) answered_[i] = true;
}

std::vector<int> ProxyServer::fds(const std::vector<net::FileDescriptor>& sockets) {
  std::vector<int> out;
  out.reserve(sockets.size());
  for (const auto& s : sockets) out.push_back(s.get());
  return out;
}

bool ProxyServer::loopsAnswering() {
  bool all = true;
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (!answered_[i].exchange(false)) all = false;
    std::atomic<bool>* flag = &answered_[i];
    loops_[i]->events().post([flag] { flag->store(true); });
  }
  return all;
}

ProxyServer::~ProxyServer() {
  stop(std::chrono::milliseconds(0));
}

void ProxyServer::start() {
  for (auto& loop : loops_) {
    ProxyLoop* l = loop.get();
    threads_.emplace_back([l] { l->run(); });
  }
}

void ProxyServer::reloadCertificates() {
  if (!tls_) {
    logLine("SIGHUP: no TLS listener, nothing to reload");
    return;
  }
  try {
    auto config = net::TlsServerConfig::load(certificateFiles_, http2_);
    std::string names;
    for (const auto& n : config->names()) names += (names.empty() ? "" : ", ") + n;
    tls_->publish(std::move(config));
    logLine("TLS certificates reloaded (" + names + ")");
  } catch (const std::runtime_error& e) {
    logError(std::string("TLS certificates not reloaded, the old ones stay: ") + e.what());
  }
}

void ProxyServer::dropTargets(const std::vector<std::shared_ptr<TargetState>>& targets) {
  // Called on the reloader's thread: each loop closes its own idle connections to them.
  for (auto& loop : loops_) loop->closeIdleTo(targets);
}

bool ProxyServer::stop(std::chrono::milliseconds grace, std::chrono::milliseconds idleGrace) {
  if (stopped_) return drained_;
  stopped_ = true;
  runtime_->stopReloading();
  for (auto& loop : loops_) loop->beginDrain(idleGrace);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // New clients are refused from here on: once no loop watches the listening socket, it closes.
  const bool running = !threads_.empty();
  while (running) {
    bool all = true;
    for (auto& loop : loops_) all = all && loop->acceptStopped();
    if (all || std::chrono::steady_clock::now() >= deadline + std::chrono::seconds(1)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  listeners_.clear();
  tlsListeners_.clear();
  std::size_t left = 0;
  for (;;) {
    left = 0;
    for (auto& loop : loops_) left += loop->clientCount();
    if (left == 0 || !running || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (left > 0 || !running) {
    drained_ = false;
    logLine("proxy: " + std::to_string(left) +
            " connections still busy after the drain timeout; closing them");
    for (auto& loop : loops_) loop->stop();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  return drained_;
}

}  // namespace portico
