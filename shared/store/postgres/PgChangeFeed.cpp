#include "store/postgres/PgChangeFeed.h"

#include <algorithm>

#include "base/Errors.h"
#include "base/Log.h"
#include "store/StoreLocation.h"
#include "store/postgres/PostgresStore.h"

namespace portico {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

PgChangeFeed::PgChangeFeed(std::string url) : url_(std::move(url)) {}

PgChangeFeed::~PgChangeFeed() = default;

void PgChangeFeed::interrupt() {
  wake_.interrupt();
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
    const auto event = wake_.wait(fd, deadline);
    if (event != FeedWake::Event::Readable) return event == FeedWake::Event::Interrupted;
    if (drain()) return true;
    if (!conn_) return false;  // the connection broke: poll until the backoff has passed
  }
  return false;
}

bool PgChangeFeed::pause(Clock::time_point until) {
  if (wake_.wait(-1, until) == FeedWake::Event::Interrupted) return true;
  return conn_ && drain();
}

}  // namespace portico
