#include "support/RecordingBackend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string_view>

namespace portico::test {

RecordingBackend::RecordingBackend() {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 256) != 0)
    throw std::runtime_error("RecordingBackend: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

RecordingBackend::~RecordingBackend() {
  stop_ = true;
  thread_.join();
  ::close(listenFd_);
}

std::vector<RecordingBackend::Connection> RecordingBackend::connections() {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_;
}

std::string RecordingBackend::allReceived() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string all;
  for (const auto& c : connections_) all += c.received;
  return all;
}

void RecordingBackend::run() {
  // One thread polls the listener and every connection: a handful of test connections.
  struct Open {
    int fd;
    std::size_t index;     // into connections_
    std::size_t answered;  // request heads answered so far
  };
  std::vector<Open> open;
  while (!stop_) {
    std::vector<pollfd> fds{{listenFd_, POLLIN, 0}};
    for (const auto& o : open) fds.push_back({o.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        connections_.push_back({});
        open.push_back({fd, connections_.size() - 1, 0});
      }
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      Open& o = open[i - 1];
      char buffer[65536];
      const ssize_t n = ::recv(o.fd, buffer, sizeof buffer, 0);
      std::lock_guard<std::mutex> lock(mutex_);
      Connection& c = connections_[o.index];
      if (n > 0) {
        c.received.append(buffer, static_cast<std::size_t>(n));
        // Answer each complete GET or HEAD head; requests with a body are never answered, so
        // a test sees what the proxy does with the body (bodies are small in these tests).
        std::size_t heads = 0;
        for (std::size_t pos = 0;;) {
          const std::size_t end = c.received.find("\r\n\r\n", pos);
          if (end == std::string::npos) break;
          const std::string_view head(c.received.data() + pos, end - pos);
          if (head.rfind("GET ", 0) == 0 || head.rfind("HEAD ", 0) == 0) ++heads;
          pos = end + 4;
        }
        for (; o.answered < heads; ++o.answered) {
          static const char kAnswer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
          [[maybe_unused]] const auto w = ::send(o.fd, kAnswer, sizeof kAnswer - 1, MSG_NOSIGNAL);
        }
        continue;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      c.ended = true;
      c.reset = n < 0;
      ::close(o.fd);
      o.fd = -1;
    }
    std::vector<Open> still;
    for (const auto& o : open)
      if (o.fd >= 0) still.push_back(o);
    open.swap(still);
  }
  for (const auto& o : open) ::close(o.fd);
}

}  // namespace portico::test
