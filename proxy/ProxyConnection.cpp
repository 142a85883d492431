#include "ProxyConnection.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Delegate.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timestamp.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>

#include "JsonError.h"

namespace portico {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerSession;

/// Reaches HTTPSession's protected buffered() (see BodyReader.cpp for the idiom).
class SessionBuffer : public Poco::Net::HTTPSession {
 public:
  static int bytes(const HTTPSession& s) { return (s.*&SessionBuffer::buffered)(); }

 private:
  SessionBuffer() = delete;
};

/// Waits up to `timeout` for the socket to become readable (data, EOF or error all count: the
/// request parser then tells them apart), as Socket::poll(timeout, SELECT_READ) does.
bool readable(const Poco::Net::StreamSocket& socket, const Poco::Timespan& timeout) {
  const poco_socket_t fd = socket.impl()->sockfd();
  if (fd == POCO_INVALID_SOCKET) return false;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::microseconds(timeout.totalMicroseconds());
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let the read report the error
  }
}

/// The Date header value, formatted once per second per thread.
const std::string& httpDate() {
  thread_local std::time_t second = 0;
  thread_local std::string text;
  const Poco::Timestamp now;
  const std::time_t t = now.epochTime();
  if (t != second || text.empty()) {
    text = Poco::DateTimeFormatter::format(now, Poco::DateTimeFormat::HTTP_FORMAT);
    second = t;
  }
  return text;
}

/// Answers a request that never reached a handler (unparseable), then the connection closes.
void sendErrorResponse(HTTPServerSession& session, HTTPResponse::HTTPStatus status,
                       const std::string& message) {
  Poco::Net::HTTPServerResponseImpl response(session);
  response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
  JsonError::send(response, status, message, false);
  session.setKeepAlive(false);
}

}  // namespace

ProxyConnection::ProxyConnection(const Poco::Net::StreamSocket& socket,
                                 Poco::Net::HTTPServerParams::Ptr params,
                                 Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                                 Poco::BasicEvent<const bool>& stopEvent, ConnectionDrain& drain,
                                 ProxyMetrics* metrics)
    : TCPServerConnection(socket),
      params_(std::move(params)),
      factory_(std::move(factory)),
      stopEvent_(stopEvent),
      drain_(drain),
      metrics_(metrics) {
  stopEvent_ += Poco::delegate(this, &ProxyConnection::onServerStopped);
}

ProxyConnection::~ProxyConnection() {
  // Removing a delegate only takes the event's mutex; it does not throw for a registered one.
  stopEvent_ -= Poco::delegate(this, &ProxyConnection::onServerStopped);
}

void ProxyConnection::run() {
  // Counted open for as long as this thread serves the connection.
  struct Counted {
    ProxyMetrics* m;
    explicit Counted(ProxyMetrics* metrics) : m(metrics) {
      if (m) m->clientConnectionOpened(m->threadShard());
    }
    ~Counted() {
      if (m) m->clientConnectionClosed(m->threadShard());
    }
  } counted(metrics_);
  const std::string server = params_->getSoftwareVersion();
  const bool keepAliveAllowed = params_->getKeepAlive();
  HTTPServerSession session(socket(), params_);
  // As HTTPServerSession::hasMoreRequests(): the first request within the receive timeout,
  // the next ones within the keep-alive timeout, up to maxKeepAliveRequests (0: unlimited).
  int requestsLeft = params_->getMaxKeepAliveRequests() - 1;
  bool first = true;
  for (;;) {
    if (stopped_) break;
    if (first) {
      first = false;
      if (!readable(socket(), session.getTimeout())) break;
    } else {
      if (requestsLeft == 0 || !session.getKeepAlive()) break;
      if (requestsLeft > 0) --requestsLeft;
      if (SessionBuffer::bytes(session) <= 0 && !awaitNextRequest()) break;
    }
    bool parsed = false;
    try {
      Poco::FastMutex::ScopedLock lock(mutex_);
      if (stopped_) break;
      Poco::Net::HTTPServerResponseImpl response(session);
      Poco::Net::HTTPServerRequestImpl request(response, session, params_);
      parsed = true;
      response.set(HTTPResponse::DATE, httpDate());
      response.setVersion(request.getVersion());
      // Connections queued for a thread take this one's after its response (ConnectionDrain); a
      // token is spent only by a connection that would otherwise stay open.
      const bool canKeepAlive =
          keepAliveAllowed && request.getKeepAlive() && requestsLeft != 0 && !drain_.take();
      response.setKeepAlive(canKeepAlive);
      if (!server.empty()) response.set("Server", server);
      try {
        std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
            factory_->createRequestHandler(request));
        if (handler) {
          if (request.getExpectContinue() && response.getStatus() == HTTPResponse::HTTP_OK)
            response.sendContinue();
          handler->handleRequest(request, response);
          session.setKeepAlive(canKeepAlive && response.getKeepAlive());
        } else {
          sendErrorResponse(session, HTTPResponse::HTTP_NOT_IMPLEMENTED, "no handler");
        }
      } catch (const Poco::Exception&) {
        if (!response.sent()) {
          try {
            sendErrorResponse(session, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR,
                              "internal proxy error");
          } catch (const Poco::Exception&) {
            // The client is gone; the original error below is the one worth reporting.
          }
        }
        throw;
      }
    } catch (const Poco::Net::NoMessageException&) {
      break;  // the client closed between requests
    } catch (const Poco::Exception& e) {
      if (session.networkException()) session.networkException()->rethrow();
      if (parsed) throw;
      // A request line, header or Content-Length POCO could not parse: 400, then close, since
      // where the request ends is unknown.
      try {
        sendErrorResponse(session, HTTPResponse::HTTP_BAD_REQUEST,
                          "bad request: " + e.displayText());
      } catch (const Poco::Exception&) {
        // The client is gone as well.
      }
      break;
    }
  }
}

bool ProxyConnection::awaitNextRequest() {
  // Idle connections look up once a second whether a queued one wants their thread.
  constexpr std::chrono::milliseconds kSlice{1000};
  const auto timeout =
      std::chrono::microseconds(params_->getKeepAliveTimeout().totalMicroseconds());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const auto slice = std::min<std::chrono::microseconds>(left, kSlice);
    if (readable(socket(), Poco::Timespan(slice.count()))) return true;
    if (stopped_ || drain_.take()) return false;
  }
}

void ProxyConnection::onServerStopped(const bool& abortCurrent) {
  stopped_ = true;
  try {
    if (abortCurrent) {
      socket().shutdown();
    } else {
      Poco::FastMutex::ScopedLock lock(mutex_);
      socket().shutdown();
    }
  } catch (const Poco::Exception&) {
    // Already closed by the peer: nothing left to shut down.
  }
}

}  // namespace portico
