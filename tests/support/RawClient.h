#pragma once

// A raw HTTP/1.1 exchange on a socket, for what HTTPClientSession hides or refuses to send:
// 100-continue, chunk timing, malformed and ambiguous requests, connection resets.

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <string>

namespace portico::test {

class RawClient {
 public:
  /// Connects to 127.0.0.1:port; a receive waits at most `receiveTimeout`.
  explicit RawClient(int port, std::chrono::seconds receiveTimeout = std::chrono::seconds(10)) {
    socket_.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)),
                    Poco::Timespan(5, 0));
    socket_.setReceiveTimeout(Poco::Timespan(static_cast<long>(receiveTimeout.count()), 0));
  }
  void send(const std::string& bytes) {
    socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }
  /// The end of what this client sends (FIN); the answer can still be read.
  void shutdownSend() { socket_.shutdownSend(); }
  /// Reads until `marker` appears in everything read so far, EOF, an error, or the receive timeout.
  /// Returns false unless the marker was seen.
  bool readUntil(const std::string& marker) {
    while (data_.find(marker) == std::string::npos) {
      if (!readSome()) return false;
    }
    return true;
  }
  /// Reads until the server closes (or an error, or the receive timeout); true on a clean EOF.
  bool readToEnd() {
    while (readSome()) {
    }
    return eof_;
  }
  /// One receive; false on EOF (eof() then) or error (error() says which).
  bool readSome() {
    char buf[65536];
    try {
      const int n = socket_.receiveBytes(buf, sizeof buf);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      data_.append(buf, static_cast<std::size_t>(n));
      return true;
    } catch (const Poco::Exception& e) {
      error_ = e.displayText();
      return false;
    }
  }
  const std::string& data() const { return data_; }
  bool eof() const { return eof_; }
  const std::string& error() const { return error_; }

 private:
  Poco::Net::StreamSocket socket_;
  std::string data_;
  bool eof_{false};
  std::string error_;
};

}  // namespace portico::test
