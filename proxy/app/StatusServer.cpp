#include "app/StatusServer.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <Poco/URI.h>

#include "forward/ErrorReply.h"
#include "metrics/Exposition.h"
#include "net/InheritedListeners.h"

namespace portico {
namespace {

using Poco::Net::HTTPResponse;

class StatusHandler : public Poco::Net::HTTPRequestHandler {
 public:
  StatusHandler(const std::function<std::string()>& scrape, const std::function<bool()>& ready)
      : scrape_(scrape), ready_(ready) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const std::string path = Poco::URI(request.getURI()).getPath();
    const std::string& method = request.getMethod();
    const bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
    if (!known) {
      ErrorReply(HTTPResponse::HTTP_NOT_FOUND,
                 "no such path: " + path + " (try /metrics, /healthz, /readyz)")
          .send(response);
      return;
    }
    if (method != "GET" && method != "HEAD") {
      response.set("Allow", "GET, HEAD");
      ErrorReply(HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                 "method " + method + " not allowed on " + path + " (allowed: GET, HEAD)")
          .send(response);
      return;
    }
    response.set("Cache-Control", "no-store");
    if (path == "/metrics") {
      send(response, HTTPResponse::HTTP_OK, metrics::Exposition::kContentType, scrape_(),
           method == "HEAD");
    } else if (path == "/healthz") {
      send(response, HTTPResponse::HTTP_OK, "application/json", "{\"status\":\"ok\"}",
           method == "HEAD");
    } else if (ready_()) {
      send(response, HTTPResponse::HTTP_OK, "application/json", "{\"status\":\"ready\"}",
           method == "HEAD");
    } else {
      send(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "application/json",
           "{\"status\":\"not ready\",\"error\":\"no route table read from the store yet\"}",
           method == "HEAD");
    }
  }

 private:
  static void send(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
                   const std::string& type, const std::string& body, bool headOnly) {
    response.setStatusAndReason(status);
    response.setContentType(type);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    if (headOnly) {
      response.send();
    } else {
      response.sendBuffer(body.data(), body.size());
    }
  }

  const std::function<std::string()>& scrape_;
  const std::function<bool()>& ready_;
};

class StatusHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  StatusHandlerFactory(std::function<std::string()> scrape, std::function<bool()> ready)
      : scrape_(std::move(scrape)), ready_(std::move(ready)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new StatusHandler(scrape_, ready_);  // POCO owns and deletes the handler
  }

 private:
  std::function<std::string()> scrape_;
  std::function<bool()> ready_;
};

/// A listening socket POCO did not open (POCO has no public way to adopt a descriptor).
class AdoptedServerSocket : public Poco::Net::ServerSocket {
 public:
  explicit AdoptedServerSocket(int fd) : ServerSocket(new Impl(fd), true) {}

 private:
  class Impl : public Poco::Net::ServerSocketImpl {
   public:
    explicit Impl(int fd) { reset(fd); }
  };
};

}  // namespace

StatusServer::StatusServer(const std::string& host, int port, std::function<std::string()> scrape,
                           std::function<bool()> ready)
    : pool_(std::make_unique<Poco::ThreadPool>("status", 1, 4)) {
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), true, false);
  socket.listen(64);
  serve(socket, std::move(scrape), std::move(ready));
}

StatusServer::StatusServer(net::FileDescriptor inherited, std::function<std::string()> scrape,
                           std::function<bool()> ready)
    : pool_(std::make_unique<Poco::ThreadPool>("status", 1, 4)) {
  // POCO's server waits in poll() and then accepts: the socket must block.
  net::setNonBlocking(inherited.get(), false);
  serve(AdoptedServerSocket(inherited.release()), std::move(scrape), std::move(ready));
}

void StatusServer::serve(const Poco::Net::ServerSocket& socket, std::function<std::string()> scrape,
                         std::function<bool()> ready) {
  port_ = socket.address().port();
  fd_ = socket.impl()->sockfd();
  auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
  params->setMaxThreads(4);
  params->setMaxQueued(64);
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(10, 0));
  params->setServerName("portico-proxy-status");
  server_ = std::make_unique<Poco::Net::HTTPServer>(
      Poco::makeShared<StatusHandlerFactory>(std::move(scrape), std::move(ready)), *pool_, socket,
      params);
}

StatusServer::~StatusServer() {
  stop();
}

void StatusServer::start() {
  server_->start();
  running_ = true;
}

void StatusServer::stop() {
  if (!running_) return;
  running_ = false;
  server_->stopAll(true);
  pool_->joinAll();
}

}  // namespace portico
