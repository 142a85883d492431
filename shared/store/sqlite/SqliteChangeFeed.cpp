#include "store/sqlite/SqliteChangeFeed.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string_view>

namespace portico {

SqliteChangeFeed::SqliteChangeFeed(const std::string& path) {
  const auto slash = path.rfind('/');
  directory_ = slash == std::string::npos ? "." : path.substr(0, std::max<std::size_t>(slash, 1));
  name_ = slash == std::string::npos ? path : path.substr(slash + 1);
  // Without inotify the feed polls: a limit reached is no reason to refuse to serve.
  inotifyFd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  watch();
}

SqliteChangeFeed::~SqliteChangeFeed() {
  if (inotifyFd_ >= 0) ::close(inotifyFd_);
}

void SqliteChangeFeed::watch() {
  if (watching_ || inotifyFd_ < 0) return;
  watching_ = inotify_add_watch(inotifyFd_, directory_.c_str(), IN_MODIFY | IN_MOVED_TO) >= 0;
}

void SqliteChangeFeed::interrupt() {
  wake_.interrupt();
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
  watch();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    switch (wake_.wait(watching_ ? inotifyFd_ : -1, deadline)) {
      case FeedWake::Event::Interrupted:
        return true;
      case FeedWake::Event::TimedOut:
        return false;
      case FeedWake::Event::Readable:
        if (drain()) return true;
        break;
    }
  }
}

bool SqliteChangeFeed::pause(std::chrono::steady_clock::time_point until) {
  watch();
  if (wake_.wait(-1, until) == FeedWake::Event::Interrupted) return true;
  return watching_ && drain();
}

}  // namespace portico
