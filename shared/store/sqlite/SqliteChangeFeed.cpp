#include "store/sqlite/SqliteChangeFeed.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace portico {

SqliteChangeFeed::SqliteChangeFeed(const std::string& path) {
  const auto slash = path.rfind('/');
  directory_ = slash == std::string::npos ? "." : path.substr(0, std::max<std::size_t>(slash, 1));
  name_ = slash == std::string::npos ? path : path.substr(slash + 1);
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  // Without inotify the feed polls: a limit reached is no reason to refuse to serve.
  inotifyFd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  watch();
}

SqliteChangeFeed::~SqliteChangeFeed() {
  if (inotifyFd_ >= 0) ::close(inotifyFd_);
  ::close(wakeFd_);
}

void SqliteChangeFeed::watch() {
  if (watching_ || inotifyFd_ < 0) return;
  watching_ = inotify_add_watch(inotifyFd_, directory_.c_str(), IN_MODIFY | IN_MOVED_TO) >= 0;
}

void SqliteChangeFeed::interrupt() {
  const std::uint64_t one = 1;
  // An eventfd counter cannot overflow from a handful of writes; a failed write changes nothing.
  [[maybe_unused]] const auto n = ::write(wakeFd_, &one, sizeof one);
}

bool SqliteChangeFeed::drain() {
  alignas(inotify_event) char buffer[4096];
  bool ours = false;
  for (;;) {
    const ssize_t n = ::read(inotifyFd_, buffer, sizeof buffer);
    if (n <= 0) return ours;  // EAGAIN: drained
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      const std::string_view file = event->len > 0 ? std::string_view(event->name) : "";
      // The store file, its log, or a store moved into place; an overflowed queue may have
      // dropped any of them.
      if ((event->mask & IN_Q_OVERFLOW) || file == name_ ||
          (file.size() == name_.size() + 4 && file.substr(0, name_.size()) == name_ &&
           file.substr(name_.size()) == "-wal"))
        ours = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

bool SqliteChangeFeed::wait(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  watch();
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd fds[2] = {{wakeFd_, POLLIN, 0}, {inotifyFd_, POLLIN, 0}};
    const int n = ::poll(fds, watching_ ? 2 : 1, static_cast<int>(std::max<long long>(0, left)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (fds[0].revents) return true;  // interrupted: the eventfd stays set for later waits
    if (drain()) return true;
  }
}

}  // namespace portico
