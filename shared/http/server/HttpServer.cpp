#include "http/server/HttpServer.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <exception>

#include "base/Log.h"
#include "http/HttpDate.h"
#include "http/server/HttpServerConnection.h"

namespace portico::http {

/// The listening socket as the loop's event source.
class HttpServer::Acceptor final : public net::EventHandler {
 public:
  explicit Acceptor(HttpServer& server) : server_(server) {}
  void onEvent(std::uint32_t) override { server_.acceptSome(); }

 private:
  HttpServer& server_;
};

HttpServer::HttpServer(net::FileDescriptor listener, HttpService& service, HttpServerLimits limits,
                       std::string serverName)
    : listener_(std::move(listener)),
      service_(service),
      limits_(limits),
      serverName_(std::move(serverName)),
      acceptor_(std::make_unique<Acceptor>(*this)),
      headerTimeouts_(limits.headerTimeout.count()),
      bodyTimeouts_(limits.bodyTimeout.count()),
      sendTimeouts_(limits.sendTimeout.count()),
      keepAliveTimeouts_(limits.keepAliveTimeout.count()),
      lingerTimeouts_(limits.lingerTimeout.count()),
      workers_(limits.workers) {
  for (net::TimerList* list :
       {&headerTimeouts_, &bodyTimeouts_, &sendTimeouts_, &keepAliveTimeouts_, &lingerTimeouts_})
    loop_.watch(*list);
  loop_.setBatchEnd([this] { batchEnd(); });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  if (started_.exchange(true)) return;
  loop_.add(listener_.get(), EPOLLIN, *acceptor_);
  thread_ = std::thread([this] {
    try {
      loop_.run();
    } catch (const std::exception& e) {
      logError(std::string("http server: event loop failed: ") + e.what());
    }
  });
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) return;
  if (started_) {
    loop_.post([this] { beginDrain(); });
    if (thread_.joinable()) thread_.join();
  }
  workers_.stop();
  // The loop has ended: what is still open is closed now (answers that did not make it in
  // time are lost, as the drain timeout says).
  connections_.clear();
  released_.clear();
  listener_.reset();
}

net::TimerList* HttpServer::timers(ClientPhase::Timeout timeout) {
  using T = ClientPhase::Timeout;
  switch (timeout) {
    case T::Header:
      return &headerTimeouts_;
    case T::Body:
      return &bodyTimeouts_;
    case T::Send:
      return &sendTimeouts_;
    case T::KeepAlive:
      return &keepAliveTimeouts_;
    case T::Linger:
      return &lingerTimeouts_;
    case T::Tunnel:
    case T::None:
      break;
  }
  return nullptr;
}

void HttpServer::submit(std::uint64_t id, std::function<ServerResponse()> work) {
  workers_.submit([this, id, work = std::move(work)] {
    ServerResponse answer;
    try {
      answer = work();
    } catch (const std::exception& e) {
      logError(std::string("http server: internal error: ") + e.what());
      answer = ServerResponse::error(500, std::string("internal error: ") + e.what());
    }
    loop_.post([this, id, answer = std::move(answer)]() mutable {
      const auto it = connections_.find(id);
      if (it != connections_.end()) it->second->respond(std::move(answer));
    });
  });
}

void HttpServer::closed(std::uint64_t id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  released_.push_back(std::move(it->second));
  connections_.erase(it);
}

void HttpServer::acceptSome() {
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        logWarn("http server: cannot accept a connection (out of file descriptors)");
      }
      return;
    }
    net::FileDescriptor socket(fd);
    if (connections_.size() >= limits_.maxConnections) {
      // Told why rather than reset: one write on a fresh socket, which its buffer takes.
      const ServerResponse r = ServerResponse::error(503, "too many connections, try again");
      const std::string answer =
          "HTTP/1.1 503 Service Unavailable\r\nServer: " + serverName_ +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) +
          "\r\nConnection: close\r\n\r\n" + r.body;
      [[maybe_unused]] const auto n =
          ::send(socket.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
      ::shutdown(socket.get(), SHUT_WR);
      service_.refusedUnparsed(503);
      continue;
    }
    const std::uint64_t id = nextId_++;
    auto connection = std::make_unique<HttpServerConnection>(*this, id, std::move(socket),
                                                             net::addressText(peer));
    HttpServerConnection& c = *connection;
    connections_.emplace(id, std::move(connection));
    c.start();
  }
}

void HttpServer::beginDrain() {
  draining_ = true;
  drainDeadline_ = loop_.now() + limits_.drainTimeout.count();
  loop_.remove(listener_.get());
  loop_.wakeBy(drainDeadline_);
  std::vector<HttpServerConnection*> all;
  for (auto& [id, c] : connections_) all.push_back(c.get());
  for (HttpServerConnection* c : all) c->drain();
}

void HttpServer::batchEnd() {
  released_.clear();
  if (draining_ && (connections_.empty() || loop_.now() >= drainDeadline_)) loop_.stop();
}

}  // namespace portico::http
