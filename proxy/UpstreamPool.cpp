#include "UpstreamPool.h"

#include "UpstreamConnection.h"

namespace portico {

UpstreamPool::UpstreamPool() = default;
UpstreamPool::~UpstreamPool() = default;

std::unique_ptr<UpstreamConnection> UpstreamPool::take() {
  const auto now = std::chrono::steady_clock::now();
  for (;;) {
    std::unique_ptr<UpstreamConnection> c;
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

void UpstreamPool::give(std::unique_ptr<UpstreamConnection> connection) {
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

void UpstreamPool::retire() {
  std::vector<std::unique_ptr<UpstreamConnection>> closing;
  std::lock_guard<std::mutex> lock(mutex_);
  retired_ = true;
  closing.swap(idle_);
}

void UpstreamPool::prune() {
  std::vector<std::unique_ptr<UpstreamConnection>> closing;
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

std::size_t UpstreamPool::idleCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace portico
