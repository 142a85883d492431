#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <cstdint>
#include <memory>
#include <string>

namespace portico::echo {

/// How one portico-echo instance listens and names itself.
struct EchoOptions {
  std::string host{"127.0.0.1"};
  std::uint16_t port{0};
  std::string name;  // "echo-<port>" when empty
  int threads{64};
  int backlog{1024};
  // HTTPS instead of HTTP when both are set (PEM files), for https targets in demos and tests.
  std::string tlsCertificate;
  std::string tlsKey;
};

/// A demo/test backend: echoes requests as JSON and misbehaves on request, for proxy tests.
///
/// Any method and path answers 200 JSON {"name","method","path" (path and query as received),
/// "headers" {lower-cased name: value, repeats joined with ", "},"bodyLength","bodyFnv1a"
/// (16 hex digits of the FNV-1a 64 of the body)} with header X-Backend: NAME. Query parameters
/// steer it: delay=250ms (or bare ms) waits first; status=N answers N; size=N answers N bytes
/// 'a'+i%26 with Content-Length (chunked=1: chunked; sha=1: header X-Body-Fnv1a);
/// stream=N&interval=100ms sends N chunked lines "NAME chunk i\n", flushing each; drop=1 resets
/// the connection without answering; close=1 answers with Connection: close; only=NAME makes
/// all of these apply on the echo named NAME alone (the others answer 200). GET /ws with
/// Upgrade: websocket echoes frames until close. 204 and 1xx answers close the connection.
class EchoServer {
 public:
  /// Binds (reuse-port off, so a busy port fails here with an exception) and starts serving.
  explicit EchoServer(EchoOptions options);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  const std::string& name() const { return options_.name; }
  std::uint16_t port() const { return options_.port; }

 private:
  EchoOptions options_;
  Poco::ThreadPool pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

/// 64-bit FNV-1a, incrementally: the checksum tests compare uploads and downloads with.
class Fnv1a64 {
 public:
  void update(const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      hash_ ^= static_cast<unsigned char>(data[i]);
      hash_ *= 1099511628211ULL;
    }
  }
  std::uint64_t value() const { return hash_; }
  /// 16 lower-case hex digits.
  std::string hex() const;

 private:
  std::uint64_t hash_{14695981039346656037ULL};
};

/// The deterministic body of a `size=N` answer: byte i is 'a' + i % 26.
std::string patternBody(std::size_t n);

}  // namespace portico::echo
