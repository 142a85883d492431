#pragma once

// A raw TCP backend that records every byte it receives, per connection, and how each
// connection ended (a clean close or a reset). It answers each GET or HEAD with a short 200, so
// a proxy in front of it sees a working target, and never answers a request with a body, so a
// test sees what the proxy does with that body; tests then read what really arrived.

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace portico::test {

class RecordingBackend {
 public:
  /// How one accepted connection went.
  struct Connection {
    std::string received;
    bool ended{false};  // the peer closed or reset it
    bool reset{false};  // ... with a reset (an aborted request), not a clean end
  };

  RecordingBackend();
  ~RecordingBackend();
  RecordingBackend(const RecordingBackend&) = delete;
  RecordingBackend& operator=(const RecordingBackend&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Every connection so far (a copy).
  std::vector<Connection> connections();
  /// Everything received on every connection.
  std::string allReceived();

 private:
  void run();

  int listenFd_{-1};
  int port_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Connection> connections_;
  std::thread thread_;
};

}  // namespace portico::test
