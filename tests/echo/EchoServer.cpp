#include "echo/EchoServer.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <thread>

#include "base/Duration.h"
#include "base/Errors.h"
#include "base/JsonText.h"

namespace portico::echo {
namespace {

constexpr std::size_t kIoBuffer = 64 * 1024;
// A multiple of 26 so that consecutive writes of the whole buffer continue the pattern.
constexpr std::size_t kPatternChunk = 26 * 2520;

const std::string& patternChunk() {
  static const std::string chunk = [] {
    std::string s(kPatternChunk, 'a');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  return chunk;
}

/// "250ms" or a bare number of milliseconds; garbage means no delay (this is a test tool).
std::chrono::milliseconds parseDelay(const std::string& text) {
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::chrono::milliseconds(std::stoll(text));
  try {
    return parseDuration(text);
  } catch (const portico::InvalidInput&) {
    return std::chrono::milliseconds(0);
  }
}

std::uint64_t parseCount(const std::string& text) {
  try {
    return std::stoull(text);
  } catch (const std::logic_error&) {  // invalid_argument or out_of_range: not a count
    return 0;
  }
}

/// The query parameters that steer a response.
struct Steering {
  std::chrono::milliseconds delay{0};
  int status{200};
  bool hasSize{false};
  std::uint64_t size{0};
  bool chunked{false};
  std::uint64_t stream{0};
  std::chrono::milliseconds interval{0};
  bool drop{false};
  bool close{false};
  bool sha{false};
  std::string only;  // when set, the steering applies on the echo of that name alone

  static Steering from(const std::string& uri) {
    Steering s;
    if (uri.find('?') == std::string::npos) return s;
    Poco::URI::QueryParameters query;
    try {
      query = Poco::URI(uri).getQueryParameters();
    } catch (const Poco::SyntaxException&) {
      return s;  // an unparsable query steers nothing
    }
    for (const auto& [key, value] : query) {
      if (key == "delay")
        s.delay = parseDelay(value);
      else if (key == "status")
        s.status = static_cast<int>(parseCount(value));
      else if (key == "size")
        s.hasSize = true, s.size = parseCount(value);
      else if (key == "chunked")
        s.chunked = value == "1" || value == "true";
      else if (key == "stream")
        s.stream = parseCount(value);
      else if (key == "interval")
        s.interval = parseDelay(value);
      else if (key == "drop")
        s.drop = value == "1" || value == "true";
      else if (key == "close")
        s.close = value == "1" || value == "true";
      else if (key == "sha")
        s.sha = value == "1" || value == "true";
      else if (key == "only")
        s.only = value;
    }
    if (s.status < 100 || s.status > 999) s.status = 200;
    return s;
  }
};

bool bodyless(int status) {
  return status < 200 || status == 204 || status == 304;
}

/// Answers one request as its query string asks (the list is in EchoServer.h).
class EchoHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit EchoHandler(const std::string& name) : name_(name) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    Steering steer = Steering::from(request.getURI());
    if (!steer.only.empty() && steer.only != name_) steer = Steering();
    if (isWebSocket(request)) return echoWebSocket(request, response);
    if (steer.drop) {
      if (steer.delay.count() > 0) std::this_thread::sleep_for(steer.delay);
      return abortConnection(request, response);
    }

    Fnv1a64 bodyHash;
    std::uint64_t bodyLength = 0;
    std::array<char, kIoBuffer> buffer;
    std::istream& in = request.stream();
    while (in) {
      in.read(buffer.data(), buffer.size());
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      bodyHash.update(buffer.data(), n);
      bodyLength += n;
    }
    if (steer.delay.count() > 0) std::this_thread::sleep_for(steer.delay);

    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(steer.status));
    response.set("X-Backend", name_);
    if (steer.close) response.setKeepAlive(false);
    const bool head = request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD;

    if (bodyless(steer.status)) {
      // No Content-Length for 1xx/204 (RFC 9110); POCO needs one to keep the connection open.
      if (steer.status == 304)
        response.setContentLength(0);
      else
        response.setKeepAlive(false);
      response.send();
    } else if (steer.stream > 0) {
      sendStream(response, steer, head);
    } else if (steer.hasSize) {
      sendSized(response, steer, head);
    } else {
      sendEcho(request, response, bodyLength, bodyHash, head);
    }
  }

 private:
  static bool isWebSocket(const Poco::Net::HTTPServerRequest& request) {
    if (Poco::icompare(request.get("Upgrade", ""), "websocket") != 0) return false;
    const std::string& uri = request.getURI();
    return uri == "/ws" || uri.rfind("/ws?", 0) == 0;
  }

  void echoWebSocket(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) {
    try {
      response.set("X-Backend", name_);
      Poco::Net::WebSocket ws(request, response);
      ws.setReceiveTimeout(Poco::Timespan(120, 0));
      Poco::Buffer<char> frame(0);
      for (;;) {
        frame.resize(0);
        int flags = 0;
        const int n = ws.receiveFrame(frame, flags);
        const int opcode = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
        if (n == 0 && flags == 0) break;  // peer closed the TCP connection
        if (opcode == Poco::Net::WebSocket::FRAME_OP_CLOSE) {
          ws.sendFrame(frame.begin(), n, flags);
          break;
        }
        if (opcode == Poco::Net::WebSocket::FRAME_OP_PING) {
          ws.sendFrame(frame.begin(), n,
                       Poco::Net::WebSocket::FRAME_FLAG_FIN | Poco::Net::WebSocket::FRAME_OP_PONG);
          continue;
        }
        ws.sendFrame(frame.begin(), n, flags);
      }
    } catch (const Poco::Net::WebSocketException&) {
      if (!response.sent()) {
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        response.setContentLength(0);
        response.send();
      }
    } catch (const Poco::Exception&) {
      // The peer went away mid-conversation; nothing to answer.
    }
  }

  static void abortConnection(Poco::Net::HTTPServerRequest& request,
                              Poco::Net::HTTPServerResponse& response) {
    response.setKeepAlive(false);
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    if (impl == nullptr) return;
    Poco::Net::StreamSocket& socket = impl->socket();
    socket.setLinger(true, 0);  // close() now sends RST: no response, not even a FIN handshake
    socket.close();
  }

  void sendEcho(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                std::uint64_t bodyLength, const Fnv1a64& bodyHash, bool head) {
    std::map<std::string, std::string> headers;
    for (const auto& [key, value] : request) {
      auto& slot = headers[Poco::toLower(key)];
      slot = slot.empty() ? value : slot + ", " + value;
    }
    std::string json;
    json.reserve(256);
    json += "{\"name\":";
    appendJsonString(json, name_);
    json += ",\"method\":";
    appendJsonString(json, request.getMethod());
    json += ",\"path\":";
    appendJsonString(json, request.getURI());
    json += ",\"headers\":{";
    bool first = true;
    for (const auto& [key, value] : headers) {
      if (!first) json += ',';
      first = false;
      appendJsonString(json, key);
      json += ':';
      appendJsonString(json, value);
    }
    json += "},\"bodyLength\":";
    json += std::to_string(bodyLength);
    json += ",\"bodyFnv1a\":\"";
    json += bodyHash.hex();
    json += "\"}\n";
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(json.size()));
    if (head) {
      response.send();
      return;
    }
    response.sendBuffer(json.data(), json.size());
  }

  static void sendSized(Poco::Net::HTTPServerResponse& response, const Steering& steer, bool head) {
    const std::string& chunk = patternChunk();
    if (steer.sha) {
      Fnv1a64 hash;
      for (std::uint64_t left = steer.size; left > 0;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
        hash.update(chunk.data(), n);
        left -= n;
      }
      response.set("X-Body-Fnv1a", hash.hex());
    }
    response.setContentType("application/octet-stream");
    if (steer.chunked)
      response.setChunkedTransferEncoding(true);
    else
      response.setContentLength64(static_cast<Poco::Int64>(steer.size));
    std::ostream& out = response.send();
    if (head) return;
    for (std::uint64_t left = steer.size; left > 0 && out;) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
      out.write(chunk.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
    out.flush();
  }

  void sendStream(Poco::Net::HTTPServerResponse& response, const Steering& steer, bool head) {
    response.setContentType("text/plain");
    response.setChunkedTransferEncoding(true);
    std::ostream& out = response.send();
    if (head) return;
    for (std::uint64_t i = 0; i < steer.stream && out; ++i) {
      if (i > 0 && steer.interval.count() > 0) std::this_thread::sleep_for(steer.interval);
      out << name_ << " chunk " << i << '\n';
      out.flush();
    }
  }

  const std::string& name_;
};

class EchoHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit EchoHandlerFactory(std::string name) : name_(std::move(name)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new EchoHandler(name_);
  }

 private:
  const std::string name_;
};

}  // namespace

std::string Fnv1a64::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
  return buf;
}

std::string patternBody(std::size_t n) {
  std::string s(n, 'a');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

EchoServer::EchoServer(EchoOptions options)
    : options_(std::move(options)), pool_("echo", 2, options_.threads, 60) {
  Poco::Net::ServerSocket socket;
  if (!options_.tlsCertificate.empty()) {
    auto context = Poco::makeAuto<Poco::Net::Context>(Poco::Net::Context::TLS_SERVER_USE,
                                                      options_.tlsKey, options_.tlsCertificate, "",
                                                      Poco::Net::Context::VERIFY_NONE);
    // Clients may resume sessions, as a real HTTPS backend lets them.
    context->enableSessionCache(true, "portico-echo");
    socket = Poco::Net::SecureServerSocket(context);
  }
  socket.bind(Poco::Net::SocketAddress(options_.host, options_.port), true, false);
  socket.listen(options_.backlog);
  options_.port = socket.address().port();
  if (options_.name.empty()) options_.name = "echo-" + std::to_string(options_.port);

  auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
  params->setMaxThreads(options_.threads);
  params->setMaxQueued(options_.backlog);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  server_ = std::make_unique<Poco::Net::HTTPServer>(
      Poco::makeShared<EchoHandlerFactory>(options_.name), pool_, socket, params);
  server_->start();
}

EchoServer::~EchoServer() {
  server_->stopAll(true);
  pool_.joinAll();
}

}  // namespace portico::echo
