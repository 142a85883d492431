#include "ProxyServer.h"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ProxyConnection.h"

namespace portico {
namespace {

/// Threads start with a small stack: thousands of mostly idle keep-alive connections each hold one.
constexpr int kThreadStack = 256 * 1024;
constexpr int kMinBacklog = 4096;
/// Threads kept ready at start; the pool grows to proxy.threads on demand.
constexpr int kWarmThreads = 32;

}  // namespace

ProxyServer::ProxyServer(const Settings& settings)
    : pool_(std::make_unique<Poco::ThreadPool>("proxy",
                                               std::min(kWarmThreads, settings.proxy.threads),
                                               settings.proxy.threads, 60, kThreadStack)),
      module_(Poco::makeShared<ProxyModule>(settings)) {
  Poco::Net::ServerSocket socket;
  // Reuse-address (restart past TIME_WAIT) but not reuse-port: a second instance must fail here.
  socket.bind(
      Poco::Net::SocketAddress(settings.proxy.host, static_cast<Poco::UInt16>(settings.proxy.port)),
      true, false);
  socket.listen(std::max(kMinBacklog, settings.proxy.queue));
  port_ = socket.address().port();

  auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
  params->setMaxThreads(settings.proxy.threads);
  params->setMaxQueued(settings.proxy.queue);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // unlimited
  params->setKeepAliveTimeout(Poco::Timespan(15, 0));
  params->setTimeout(Poco::Timespan(60, 0));
  params->setServerName(settings.proxy.host);
  params->setSoftwareVersion("portico");
  // POCO's HTTPServer with a cheaper connection loop (see ProxyConnection); the module stays a
  // plain HTTPRequestHandlerFactory that any HTTPServer can mount.
  connections_ = Poco::makeShared<ProxyConnectionFactory>(params, module_, &module_->metrics());
  server_ = std::make_unique<Poco::Net::TCPServer>(connections_, *pool_, socket, params);
}

ProxyServer::~ProxyServer() {
  if (!stop()) {
    // Threads are still inside requests and use these objects; the process is ending anyway.
    server_.release();
    pool_.release();
  }
}

void ProxyServer::start() {
  server_->start();
  queueWatch_ = std::thread([this] { watchQueue(); });
}

void ProxyServer::watchQueue() {
  // Every tick, as many connections as wait for a thread (at least 32, at most a quarter of the
  // queue beyond that) may give theirs up; with more clients than threads they take turns
  // instead of some waiting forever.
  constexpr auto kTick = std::chrono::milliseconds(100);
  std::unique_lock<std::mutex> lock(watchMutex_);
  while (!watchWake_.wait_for(lock, kTick, [this] { return watchStop_; })) {
    // While the pool can still grow, a queued connection gets a new thread: no one yields.
    const bool full = server_->currentThreads() >= server_->maxThreads();
    const int queued = full ? server_->queuedConnections() : 0;
    connections_->drain().offer(queued == 0 ? 0 : std::min(queued, std::max(32, queued / 4)));
  }
  connections_->drain().offer(0);
}

bool ProxyServer::stop(std::chrono::milliseconds grace) {
  if (stopped_) return drained_;
  stopped_ = true;
  if (queueWatch_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(watchMutex_);
      watchStop_ = true;
    }
    watchWake_.notify_all();
    queueWatch_.join();
  }
  server_->stop();  // no new connections
  module_->stop();
  // Idle keep-alive connections close at once (stopAll(false) waits for each busy connection's
  // request to end). It runs on its own thread so that the wait can be bounded.
  struct Progress {
    std::mutex mutex;
    std::condition_variable done;
    bool finished{false};
  };
  auto progress = std::make_shared<Progress>();
  std::thread([progress, connections = connections_]() mutable {
    connections->stopAll(false);
    std::lock_guard<std::mutex> lock(progress->mutex);
    progress->finished = true;
    progress->done.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(progress->mutex);
  if (!progress->done.wait_for(lock, grace, [&] { return progress->finished; })) {
    // A handler is stuck on a slow upstream (stopAll(true) would queue behind it as well).
    drained_ = false;
    return false;
  }
  lock.unlock();
  pool_->joinAll();
  return true;
}

}  // namespace portico
