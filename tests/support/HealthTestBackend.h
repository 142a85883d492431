#pragma once

// A tiny HTTP backend for health-check tests: answers every GET with a status the test sets,
// remembers the paths it saw, and can stop listening and listen again on the same port.

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace portico::test {

/// A controllable health endpoint on 127.0.0.1 (status, delay, listening or not).
class HealthTestBackend {
 public:
  /// Listens on `port` (0: any free port); `keepAlive`: connections stay open between requests
  /// (HTTP/1.1 keep-alive), so connections() tells how many a client opened.
  explicit HealthTestBackend(int port = 0, bool keepAlive = false)
      : pool_(2, 16), keepAlive_(keepAlive) {
    listen(port);
  }
  ~HealthTestBackend() {
    close();
    pool_.joinAll();  // handlers still running use this object
  }
  HealthTestBackend(const HealthTestBackend&) = delete;
  HealthTestBackend& operator=(const HealthTestBackend&) = delete;

  int port() const { return port_; }
  void setStatus(int status) { status_ = status; }
  void setDelay(std::chrono::milliseconds delay) { delayMs_ = static_cast<int>(delay.count()); }
  int requests() const { return requests_; }
  /// Connections accepted since the last listen().
  int connections() const { return server_ ? server_->totalConnections() : 0; }
  std::string lastPath() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lastPath_;
  }

  /// Stops listening: connections to the port are refused from now on.
  void close() {
    // Kept-alive connections end too (their handlers would otherwise wait out the keep-alive
    // timeout), as a backend that stops would close them.
    if (server_ && keepAlive_) server_->stopAll(true);
    server_.reset();
  }
  /// Listens again on the same port.
  void reopen() { listen(port_); }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(HealthTestBackend& owner) : owner_(owner) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      {
        std::lock_guard<std::mutex> lock(owner_.mutex_);
        owner_.lastPath_ = request.getURI();
      }
      ++owner_.requests_;
      if (owner_.delayMs_ > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(owner_.delayMs_));
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(owner_.status_.load()));
      response.setContentLength(2);
      response.send() << "ok";
    }

   private:
    HealthTestBackend& owner_;
  };

  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(HealthTestBackend& owner) : owner_(owner) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(owner_);
    }

   private:
    HealthTestBackend& owner_;
  };

  void listen(int port) {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true,
                false);
    socket.listen(256);
    port_ = socket.address().port();
    auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
    params->setMaxThreads(16);
    params->setKeepAlive(keepAlive_);
    params->setMaxKeepAliveRequests(0);  // unlimited
    params->setKeepAliveTimeout(Poco::Timespan(30, 0));
    // Idle dispatcher threads linger this long after stop; joinAll() in the destructor waits.
    params->setThreadIdleTime(Poco::Timespan(0, 100000));
    server_ = std::make_unique<Poco::Net::HTTPServer>(Poco::makeShared<Factory>(*this), pool_,
                                                      socket, params);
    server_->start();
  }

  Poco::ThreadPool pool_;
  bool keepAlive_{false};
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  int port_{0};
  std::atomic<int> status_{200};
  std::atomic<int> delayMs_{0};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::string lastPath_;
};

}  // namespace portico::test
