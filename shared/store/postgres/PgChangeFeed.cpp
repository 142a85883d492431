#include "store/postgres/PgChangeFeed.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "base/Errors.h"
#include "base/Log.h"
#include "store/StoreLocation.h"
#include "store/postgres/PostgresStore.h"

namespace portico {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

PgChangeFeed::PgChangeFeed(std::string url) : url_(std::move(url)) {
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

PgChangeFeed::~PgChangeFeed() {
  ::close(wakeFd_);
}

void PgChangeFeed::interrupt() {
  const std::uint64_t one = 1;
  // An eventfd counter cannot overflow from a handful of writes; a failed write changes nothing.
  [[maybe_unused]] const auto n = ::write(wakeFd_, &one, sizeof one);
}

bool PgChangeFeed::connect() {
  try {
    auto conn = std::make_unique<PgConnection>(url_, true);
    conn->exec(std::string("LISTEN ") + PostgresStore::kChannel);
    conn_ = std::move(conn);
  } catch (const StoreError& e) {
    lost(e.what());
    return false;
  }
  backoff_ = std::chrono::milliseconds(0);
  if (down_) logLine("store changes: listening again on " + StoreLocation::redact(url_));
  down_ = false;
  return true;
}

void PgChangeFeed::lost(const std::string& why) {
  conn_.reset();
  backoff_ = std::min(kMaxBackoff, std::max(kFirstBackoff, backoff_ * 2));
  nextAttempt_ = Clock::now() + backoff_;
  if (!down_)
    logWarn("store changes: not listening (" + why +
            "); polling until the database is back, reconnecting with backoff");
  down_ = true;
}

bool PgChangeFeed::readable(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd fds[2] = {{wakeFd_, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(std::max<long long>(0, left)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (fds[0].revents) return false;  // interrupted: the eventfd stays set for later waits
    return true;
  }
}

bool PgChangeFeed::drain() {
  if (PQconsumeInput(conn_->get()) == 0) {
    lost(pgMessage(PQerrorMessage(conn_->get())));
    return false;
  }
  bool announced = false;
  while (PGnotify* note = PQnotifies(conn_->get())) {
    announced = true;
    PQfreemem(note);
  }
  return announced;
}

bool PgChangeFeed::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (!conn_ && Clock::now() >= nextAttempt_ && connect()) return true;
  while (Clock::now() < deadline) {
    const int fd = conn_ ? PQsocket(conn_->get()) : -1;
    if (!readable(fd, deadline)) {
      // Interrupted, or the timeout passed.
      pollfd wake{wakeFd_, POLLIN, 0};
      return ::poll(&wake, 1, 0) > 0;
    }
    if (drain()) return true;
    if (!conn_) return false;  // the connection broke: poll until the backoff has passed
  }
  return false;
}

}  // namespace portico
