#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace portico {

/// Connections to one store, lent one per concurrent operation and kept open between them (at
/// most `keepIdle`). A connection that `reusable` refuses when it comes back (it broke, or was
/// left inside a transaction and would pin an old snapshot) is closed instead.
template <typename Connection>
class ConnectionPool {
 public:
  using Open = std::function<std::unique_ptr<Connection>()>;
  using Reusable = std::function<bool(Connection&)>;

  /// A lent connection, given back when the lease ends.
  class Lease {
   public:
    Lease(ConnectionPool& owner, std::unique_ptr<Connection> conn, bool reused)
        : owner_(&owner), conn_(std::move(conn)), reused_(reused) {}
    ~Lease() {
      if (conn_) owner_->giveBack(std::move(conn_));
    }
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }
    /// Taken from the idle set (it may have died while idle, e.g. the server restarted).
    bool reused() const { return reused_; }

   private:
    ConnectionPool* owner_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  ConnectionPool(Open open, Reusable reusable, std::size_t keepIdle = 4)
      : open_(std::move(open)), reusable_(std::move(reusable)), keepIdle_(keepIdle) {}

  /// An idle connection, or a new one (whatever `open` throws when it cannot connect).
  Lease acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(conn), true);
      }
    }
    return Lease(*this, open_(), false);
  }

  /// Closes the idle connections (after a failure: they most likely lost their server too).
  void discardIdle() {
    std::vector<std::unique_ptr<Connection>> gone;
    std::lock_guard<std::mutex> lock(mutex_);
    gone.swap(idle_);
  }

 private:
  void giveBack(std::unique_ptr<Connection> conn) {
    if (!reusable_(*conn)) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < keepIdle_) idle_.push_back(std::move(conn));
  }

  const Open open_;
  const Reusable reusable_;
  const std::size_t keepIdle_;
  std::mutex mutex_;  // guards idle_ only, never held during a query or a connect
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace portico
