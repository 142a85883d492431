#include "module/WebSocketTunnel.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace portico {
namespace {

constexpr std::size_t kChunk = 16 * 1024;

/// Writes all of [data, data+n) to a blocking socket; false when the peer is gone.
bool sendAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

// POCO sockets are counted handles without move constructors: a copy shares the socket.
WebSocketTunnel::WebSocketTunnel(const Poco::Net::StreamSocket& client,
                                 const Poco::Net::StreamSocket& upstream,
                                 std::chrono::milliseconds idleTimeout)
    : client_(client), upstream_(upstream), idleTimeout_(idleTimeout) {}

std::uint64_t WebSocketTunnel::run(const std::string& toUpstream, const std::string& toClient) {
  const int cfd = client_.impl()->sockfd();
  const int ufd = upstream_.impl()->sockfd();
  client_.setBlocking(true);
  upstream_.setBlocking(true);
  std::uint64_t relayed = 0;
  if (!sendAll(ufd, toUpstream.data(), toUpstream.size())) return relayed;
  if (!sendAll(cfd, toClient.data(), toClient.size())) return relayed;
  relayed += toClient.size();

  // open[0]: client -> upstream still flowing; open[1]: upstream -> client.
  bool open[2] = {true, true};
  const int from[2] = {cfd, ufd};
  const int to[2] = {ufd, cfd};
  std::array<char, kChunk> buffer;
  while (open[0] || open[1]) {
    pollfd fds[2];
    nfds_t count = 0;
    int direction[2];
    for (int d = 0; d < 2; ++d) {
      if (!open[d]) continue;
      fds[count] = {from[d], POLLIN, 0};
      direction[count++] = d;
    }
    const int ready = ::poll(fds, count, static_cast<int>(idleTimeout_.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) break;  // idle for too long
    bool failed = false;
    for (nfds_t i = 0; i < count && !failed; ++i) {
      if (fds[i].revents == 0) continue;
      const int d = direction[i];
      const ssize_t n = ::recv(from[d], buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (n <= 0) {
        if (n < 0) {
          failed = true;  // reset: tear both down
          break;
        }
        // EOF: pass the half-close on and keep relaying the other way.
        open[d] = false;
        ::shutdown(to[d], SHUT_WR);
        continue;
      }
      if (!sendAll(to[d], buffer.data(), static_cast<std::size_t>(n))) {
        failed = true;
        break;
      }
      if (d == 1) relayed += static_cast<std::uint64_t>(n);
    }
    if (failed) break;
  }
  return relayed;
}

}  // namespace portico
