#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/Socket.h"

namespace portico {

/// The proxy's status listener (`proxy.status_host`:`proxy.status_port`), apart from the data
/// plane: GET /metrics (Prometheus text), /healthz (200 while the process serves) and /readyz
/// (200 once a route table is loaded, else 503). A small POCO HTTPServer on its own threads;
/// a scrape never queues behind client traffic.
class StatusServer {
 public:
  /// Binds now; throws Poco::Exception (address in use, bad host).
  StatusServer(const std::string& host, int port, std::function<std::string()> scrape,
               std::function<bool()> ready);
  /// Serves on a listening socket it was handed (systemd, a binary upgrade).
  StatusServer(net::FileDescriptor inherited, std::function<std::string()> scrape,
               std::function<bool()> ready);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  void start();
  void stop();
  std::uint16_t port() const { return port_; }
  /// The listening socket, for a binary upgrade to pass on.
  int fd() const { return fd_; }

 private:
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  void serve(const Poco::Net::ServerSocket& socket, std::function<std::string()> scrape,
             std::function<bool()> ready);

  std::uint16_t port_{0};
  int fd_{-1};
  bool running_{false};
};

}  // namespace portico
