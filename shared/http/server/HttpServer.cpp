#include "http/server/HttpServer.h"

#include <sys/socket.h>

#include <exception>

#include "base/Log.h"
#include "http/ClientTimerLists.h"
#include "http/HttpDate.h"
#include "http/server/HttpServerConnection.h"

namespace portico::http {

namespace {

// Accepted per readiness event; past the connection limit each is answered 503 right away.
constexpr int kAcceptBatch = 64;

}  // namespace

HttpServer::HttpServer(net::FileDescriptor listener, HttpService& service, HttpServerLimits limits,
                       std::string serverName)
    : listener_(std::move(listener)),
      service_(service),
      limits_(limits),
      serverName_(std::move(serverName)),
      acceptor_(loop_, listener_.get(), *this, kAcceptBatch, "http server"),
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
  acceptor_.enable(true);
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
  loop_.releaseClosed();
  acceptor_.enable(false);
  listener_.reset();
}

net::TimerList* HttpServer::timers(ClientPhase::Timeout timeout) {
  // No tunnels on the admin listener.
  return ClientTimerLists{&headerTimeouts_,    &bodyTimeouts_,   &sendTimeouts_,
                          &keepAliveTimeouts_, &lingerTimeouts_, nullptr}
      .of(timeout);
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
      if (it != connections_.end()) it->second->respond(answer);
    });
  });
}

void HttpServer::closed(std::uint64_t id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  loop_.releaseLater(std::move(it->second));
  connections_.erase(it);
}

void HttpServer::accepted(net::FileDescriptor socket, const sockaddr_storage& peer) {
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
    return;
  }
  const std::uint64_t id = nextId_++;
  auto connection =
      std::make_unique<HttpServerConnection>(*this, id, std::move(socket), net::addressText(peer));
  HttpServerConnection& c = *connection;
  connections_.emplace(id, std::move(connection));
  c.start();
}

void HttpServer::beginDrain() {
  draining_ = true;
  drainDeadline_ = loop_.now() + limits_.drainTimeout.count();
  acceptor_.enable(false);
  loop_.wakeBy(drainDeadline_);
  std::vector<HttpServerConnection*> all;
  for (auto& [id, c] : connections_) all.push_back(c.get());
  for (HttpServerConnection* c : all) c->drain();
}

void HttpServer::batchEnd() {
  if (!draining_) acceptor_.enable(true);  // after a pause for want of descriptors
  if (draining_ && (connections_.empty() || loop_.now() >= drainDeadline_)) loop_.stop();
}

}  // namespace portico::http
