#pragma once

#include <Poco/BasicEvent.h>
#include <Poco/Mutex.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <memory>

#include "ConnectionDrain.h"
#include "ProxyMetrics.h"

namespace portico {

/// One client connection of the standalone proxy server: the request loop of POCO's
/// HTTPServerConnection (same request/response objects, keep-alive and stop rules), but it
/// waits for the next keep-alive request with a single poll(2) instead of Socket::poll(), which
/// in POCO 1.11 creates, arms and closes an epoll instance for every request, it formats
/// the Date header once per second instead of once per request, and it yields its thread to
/// queued connections through a ConnectionDrain.
class ProxyConnection : public Poco::Net::TCPServerConnection {
 public:
  /// `stopEvent`, `drain` (the factory's) and `metrics` (may be null) must outlive the connection.
  ProxyConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                  Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                  Poco::BasicEvent<const bool>& stopEvent, ConnectionDrain& drain,
                  ProxyMetrics* metrics = nullptr);
  ~ProxyConnection() override;
  ProxyConnection(const ProxyConnection&) = delete;
  ProxyConnection& operator=(const ProxyConnection&) = delete;

  void run() override;

 private:
  void onServerStopped(const bool& abortCurrent);
  bool awaitNextRequest();  // false: keep-alive timeout, or the thread is wanted elsewhere

  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  Poco::BasicEvent<const bool>& stopEvent_;
  ConnectionDrain& drain_;
  ProxyMetrics* metrics_;
  std::atomic<bool> stopped_{false};
  Poco::FastMutex mutex_;  // held while a request is served; a graceful stop waits for it
};

/// Makes a ProxyConnection per accepted socket. stopAll() ends them like
/// HTTPServer::stopAll(): false closes idle connections and each busy one once its request
/// ends; true shuts every connection down now.
class ProxyConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  ProxyConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                         Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                         ProxyMetrics* metrics = nullptr)
      : params_(std::move(params)), factory_(std::move(factory)), metrics_(metrics) {}

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    // POCO's interface hands ownership back as a raw pointer; TCPServerDispatcher deletes it.
    return std::make_unique<ProxyConnection>(socket, params_, factory_, stopped_, drain_, metrics_)
        .release();
  }

  void stopAll(bool abortCurrent) { stopped_.notify(this, abortCurrent); }
  ConnectionDrain& drain() { return drain_; }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  Poco::BasicEvent<const bool> stopped_;
  ConnectionDrain drain_;
  ProxyMetrics* metrics_;
};

}  // namespace portico
