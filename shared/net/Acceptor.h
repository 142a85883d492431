#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "net/EventLoop.h"
#include "net/Registration.h"
#include "net/Socket.h"

namespace portico::net {

/// A listening socket as an event loop's source of new connections: on readiness it accepts up
/// to `perEvent` clients (accept4, non-blocking, close-on-exec), so a burst of new clients cannot
/// hold up the requests of those already connected. Out of descriptors or memory (EMFILE,
/// ENFILE, ENOBUFS, ENOMEM) it stops watching the listener for a pause rather than spin on a
/// level-triggered socket it cannot serve: the waiting clients stay in the kernel's queue. Only
/// the loop's thread uses it; the listening descriptor stays its owner's.
class Acceptor final : public EventHandler {
 public:
  /// Where accepted connections go.
  class Sink {
   public:
    virtual ~Sink() = default;
    /// Asked before each accept: true leaves the rest of the queue for later (a limit reached).
    virtual bool full() const { return false; }
    virtual void accepted(FileDescriptor fd, const sockaddr_storage& peer) = 0;
  };

  static constexpr std::int64_t kPauseMs = 100;

  /// `name` prefixes the log line ("proxy", "http server").
  Acceptor(EventLoop& loop, int listenFd, Sink& sink, int perEvent, std::string name);

  /// The owner wants clients now (or not: draining, at its limit). Watches the listener
  /// accordingly, except during a pause, which the next call after its end lifts: call it once
  /// per turn (the batch-end hook). Throws std::system_error when epoll refuses the listener.
  void enable(bool wanted);
  /// The listener is watched now.
  bool watching() const { return registration_.registered(); }

  void onEvent(std::uint32_t events) override;

 private:
  void pause();

  EventLoop& loop_;
  const int listenFd_;
  Sink& sink_;
  const int perEvent_;
  const std::string name_;
  Registration registration_;
  std::int64_t pausedUntil_{0};
};

}  // namespace portico::net
