// The HTTP/2 connection's input: the real Http2Connection (nghttp2's server session, the
// proxy's callbacks, its streams with their timers, the stream and flood limits) on a real
// ProxyLoop, over a socketpair in the clear. Input: the frames a client sends after its
// connection preface (the harness writes the preface first), then the client hangs up.
// Checks that the connection ends once its client is gone (no stream, timer or flow-control
// state keeps it alive), that what it sent is whole frames, and that its first frame is the
// SETTINGS advertising 128 concurrent streams.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "forward/ProxyContext.h"
#include "fuzz/FuzzCheck.h"
#include "loop/ConnectionCount.h"
#include "loop/Http2Connection.h"
#include "loop/ProxyLoop.h"
#include "net/Stream.h"
#include "routing/RouteTableSlot.h"

using namespace portico;
using namespace portico::fuzz;

namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr int kMaxTurns = 2000;

std::uint32_t be(const std::string& s, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// The server's bytes: whole frames (a tail cut short by a full socket aside), SETTINGS first.
void checkOutput(const std::string& out) {
  if (out.empty()) return;
  require(out.size() >= 9 && out[3] == 0x4, "the first frame is not SETTINGS", out.substr(0, 9));
  bool advertised = false;
  for (std::size_t at = 9; at + 6 <= 9 + be(out, 0, 3) && at + 6 <= out.size(); at += 6)
    if (be(out, at, 2) == 0x3) advertised = be(out, at + 2, 4) == 128;
  require(advertised, "MAX_CONCURRENT_STREAMS is not advertised as 128");
  for (std::size_t at = 0; at + 9 <= out.size();) {
    const std::uint32_t length = be(out, at, 3);
    require(length <= 16384, "a frame over the default SETTINGS_MAX_FRAME_SIZE");
    at += 9 + length;
  }
}

std::string drain(int fd) {
  std::string out;
  char buffer[65536];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0;)
    out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ProxyContext context{UpstreamTimeouts{}, TrustedProxies({}),
                                    std::make_unique<AccessLog>("off"), nullptr};
  static RouteTableSlot slot;  // no routes: every request is answered by the proxy itself
  // The loop watches a listener of its own; nobody connects to this one.
  static const int listener = [] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    require(fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                ::listen(fd, 1) == 0,
            "no listening socket");
    return fd;
  }();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  std::string input(kPreface);
  input.append(text(data, size));
  // A socketpair buffer holds far more than libFuzzer's inputs (4 KiB by default).
  const ssize_t written = ::send(fds[0], input.data(), input.size(), MSG_NOSIGNAL);
  ::shutdown(fds[0], SHUT_WR);
  std::string out;
  {
    ProxyLoop loop(0, context, slot, ClientLimits{}, listener);
    auto owned = std::make_unique<Http2Connection>(loop, net::Stream(net::FileDescriptor(fds[1])),
                                                   "127.0.0.1", false, ConnectionCount(nullptr));
    Http2Connection& connection = *owned;
    loop.adopt(std::move(owned));
    connection.start();
    int turns = 0;
    std::function<void()> check = [&] {
      out += drain(fds[0]);
      if (loop.clientCount() == 0 || ++turns > kMaxTurns) {
        loop.stop();
      } else {
        loop.events().post(check);
      }
    };
    loop.events().post(check);
    loop.events().run();
    require(turns <= kMaxTurns || written < 0, "the connection outlived its client");
  }
  out += drain(fds[0]);
  ::close(fds[0]);
  checkOutput(out);
  return 0;
}
