#include "balance/IdlePool.h"

#include "balance/PooledConnection.h"

namespace portico {

IdlePool::IdlePool() = default;
IdlePool::~IdlePool() = default;

std::unique_ptr<PooledConnection> IdlePool::take() {
  const auto now = std::chrono::steady_clock::now();
  for (;;) {
    std::unique_ptr<PooledConnection> c;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_.empty()) return nullptr;
      c = std::move(idle_.back());
      idle_.pop_back();
    }
    // Checked (and closed, if stale) outside the lock.
    if (now - c->idleSince() < kMaxIdleTime && !c->looksStale()) {
      c->markReused();
      return c;
    }
  }
}

void IdlePool::give(std::unique_ptr<PooledConnection> connection) {
  connection->markIdle();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!retired_ && idle_.size() < kMaxIdle) {
      idle_.push_back(std::move(connection));
      return;
    }
  }
  // `connection` closes here, outside the lock.
}

void IdlePool::retire() {
  std::vector<std::unique_ptr<PooledConnection>> closing;
  std::lock_guard<std::mutex> lock(mutex_);
  retired_ = true;
  closing.swap(idle_);
}

void IdlePool::prune() {
  std::vector<std::unique_ptr<PooledConnection>> closing;
  const auto oldest = std::chrono::steady_clock::now() - kMaxIdleTime;
  std::lock_guard<std::mutex> lock(mutex_);
  // Oldest first: the vector is in the order connections were returned.
  std::size_t keepFrom = 0;
  while (keepFrom < idle_.size() && idle_[keepFrom]->idleSince() < oldest) ++keepFrom;
  if (keepFrom == 0) return;
  closing.assign(std::make_move_iterator(idle_.begin()),
                 std::make_move_iterator(idle_.begin() + static_cast<std::ptrdiff_t>(keepFrom)));
  idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(keepFrom));
}

std::size_t IdlePool::idleCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace portico
