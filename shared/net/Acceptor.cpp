#include "net/Acceptor.h"

#include <sys/epoll.h>

#include <cassert>
#include <cerrno>
#include <system_error>

#include "base/Log.h"

namespace portico::net {

Acceptor::Acceptor(EventLoop& loop, int listenFd, Sink& sink, int perEvent, std::string name)
    : loop_(loop),
      listenFd_(listenFd),
      sink_(sink),
      perEvent_(perEvent),
      name_(std::move(name)),
      registration_(loop, *this) {
  assert(listenFd >= 0 && perEvent > 0);
}

void Acceptor::enable(bool wanted) {
  const bool watch = wanted && loop_.now() >= pausedUntil_;
  if (!registration_.want(listenFd_, watch ? std::uint32_t{EPOLLIN} : 0u))
    throw std::system_error(errno, std::generic_category(), name_ + ": epoll_ctl (listener)");
}

void Acceptor::onEvent(std::uint32_t) {
  for (int i = 0; i < perEvent_; ++i) {
    if (sink_.full()) return;
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause();
      return;
    }
    sink_.accepted(FileDescriptor(fd), peer);
  }
}

void Acceptor::pause() {
  logWarn(name_ + ": cannot accept a connection (out of file descriptors); pausing accepts");
  pausedUntil_ = loop_.now() + kPauseMs;
  loop_.wakeBy(pausedUntil_);
  registration_.leave();
}

}  // namespace portico::net
