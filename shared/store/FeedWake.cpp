#include "store/FeedWake.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace portico {

FeedWake::FeedWake() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

FeedWake::~FeedWake() {
  ::close(fd_);
}

void FeedWake::interrupt() {
  const std::uint64_t one = 1;
  // An eventfd counter cannot overflow from a handful of writes; a failed write changes nothing.
  [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}

bool FeedWake::interrupted() const {
  pollfd wake{fd_, POLLIN, 0};
  return ::poll(&wake, 1, 0) > 0;
}

FeedWake::Event FeedWake::wait(int fd, std::chrono::steady_clock::time_point deadline) const {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd fds[2] = {{fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(std::max<long long>(0, left)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Event::TimedOut;
    return fds[0].revents ? Event::Interrupted : Event::Readable;
  }
}

}  // namespace portico
