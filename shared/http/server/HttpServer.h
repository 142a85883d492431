#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/ClientPhase.h"
#include "http/server/HttpService.h"
#include "net/Acceptor.h"
#include "net/EventLoop.h"
#include "net/Socket.h"
#include "net/TimerList.h"
#include "net/WorkerPool.h"

namespace portico::http {

class HttpServerConnection;

/// Limits and timeouts of an HttpServer's clients, as nginx names them.
struct HttpServerLimits {
  std::chrono::milliseconds headerTimeout{10000};     // the whole request head
  std::chrono::milliseconds bodyTimeout{10000};       // between two reads of a request body
  std::chrono::milliseconds sendTimeout{30000};       // between two writes to a slow reader
  std::chrono::milliseconds keepAliveTimeout{60000};  // idle between requests
  std::chrono::milliseconds lingerTimeout{5000};      // reading what a refused client still sends
  std::chrono::milliseconds drainTimeout{5000};       // answers in progress when stopping
  std::size_t maxHeadBytes{32 * 1024};                // request line and headers (431 past it)
  std::size_t maxTargetBytes{8 * 1024};               // the request target (414 past it)
  std::size_t maxBodyBytes{1024 * 1024};              // a request body (413 past it)
  std::size_t maxConnections{1024};                   // open client connections (503 past it)
  std::size_t workers{4};                             // threads that run the service
};

/// A small HTTP/1.1 server on the project's own event-loop core, for listeners that are not the
/// data plane (the sidecar's admin API): one event-loop thread reads and writes every
/// connection, parsing with the data plane's strict HttpParser and framing rules
/// (MessageFraming), and timing clients with its ClientPhase rules; complete requests go to an
/// HttpService on a few worker threads, whose answers come back to the loop. So a slow or idle
/// client costs a connection's few hundred bytes, never a thread, and cannot keep others out.
///
/// Every answer the server makes itself is JSON {"error": ...} with its status: 400 for a
/// malformed request or ambiguous framing, 408 for a head or body that does not arrive in time,
/// 413, 414, 417, 431, 501, 505 and 503 past the connection limit; a connection whose framing
/// is in doubt is closed after the answer (lingering, so the answer is not lost to a reset).
class HttpServer : private net::Acceptor::Sink {
 public:
  /// `listener`: a bound, listening, non-blocking socket (see net::listenTcp). `serverName` is
  /// the Server header.
  HttpServer(net::FileDescriptor listener, HttpService& service, HttpServerLimits limits,
             std::string serverName);
  /// stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Starts the event-loop thread and the workers.
  void start();
  /// Stops accepting, closes idle connections, lets answers in progress go out (within the
  /// drain timeout), then closes the rest and joins every thread. Idempotent.
  void stop();

  // For the server's connections, on the loop thread.
  net::EventLoop& loop() { return loop_; }
  const HttpServerLimits& limits() const { return limits_; }
  HttpService& service() { return service_; }
  const std::string& serverName() const { return serverName_; }
  bool draining() const { return draining_; }
  /// The timer list of `timeout`, or null for Timeout::None (and the tunnel's, unused here).
  net::TimerList* timers(ClientPhase::Timeout timeout);
  /// Runs `work` on a worker thread and hands its answer to connection `id` on the loop thread
  /// (dropped if the connection is gone by then).
  void submit(std::uint64_t id, std::function<ServerResponse()> work);
  /// Connection `id` closed: it is released at the end of the loop's batch.
  void closed(std::uint64_t id);

 private:
  void accepted(net::FileDescriptor fd, const sockaddr_storage& peer) override;
  void beginDrain();
  void batchEnd();

  net::FileDescriptor listener_;
  HttpService& service_;
  const HttpServerLimits limits_;
  const std::string serverName_;
  net::EventLoop loop_;
  net::Acceptor acceptor_;
  net::TimerList headerTimeouts_;
  net::TimerList bodyTimeouts_;
  net::TimerList sendTimeouts_;
  net::TimerList keepAliveTimeouts_;
  net::TimerList lingerTimeouts_;
  std::unordered_map<std::uint64_t, std::unique_ptr<HttpServerConnection>> connections_;
  std::uint64_t nextId_{1};
  bool draining_{false};
  std::int64_t drainDeadline_{0};
  net::WorkerPool workers_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace portico::http
