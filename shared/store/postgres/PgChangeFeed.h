#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/ChangeFeed.h"
#include "store/FeedWake.h"
#include "store/postgres/Postgres.h"

namespace portico {

/// LISTENs on a PostgreSQL store's change channel on a connection of its own, so a wait ends as
/// soon as a change commits anywhere. The connection is made on the first wait, and again after
/// it breaks, no sooner than a backoff that grows from 100 ms to 2 s while the server stays
/// away; a wait that (re)connects returns true, since changes may have committed unannounced.
/// Meanwhile waits last their timeout: the follower's polling carries on. Logs once per outage.
class PgChangeFeed final : public ChangeFeed {
 public:
  explicit PgChangeFeed(std::string url);
  ~PgChangeFeed() override;
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  bool wait(std::chrono::milliseconds timeout) override;
  bool pause(std::chrono::steady_clock::time_point until) override;
  void interrupt() override;

 private:
  using Clock = std::chrono::steady_clock;
  bool connect();
  void lost(const std::string& why);
  bool drain();  // consumes what arrived; true if a notification was among it

  const std::string url_;
  std::unique_ptr<PgConnection> conn_;
  FeedWake wake_;
  Clock::time_point nextAttempt_{};
  std::chrono::milliseconds backoff_{0};
  bool down_{false};  // logged
};

}  // namespace portico
