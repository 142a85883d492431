#include "store/postgres/PostgresPool.h"

namespace portico {

PostgresPool::Lease::~Lease() {
  if (conn_) owner_->giveBack(std::move(conn_));
}

PostgresPool::PostgresPool(std::string url, bool readOnly, std::size_t keepIdle)
    : url_(std::move(url)), readOnly_(readOnly), keepIdle_(keepIdle) {}

PostgresPool::Lease PostgresPool::acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn), true);
    }
  }
  return Lease(*this, std::make_unique<PgConnection>(url_, readOnly_), false);
}

void PostgresPool::discardIdle() {
  std::vector<std::unique_ptr<PgConnection>> gone;
  std::lock_guard<std::mutex> lock(mutex_);
  gone.swap(idle_);
}

void PostgresPool::giveBack(std::unique_ptr<PgConnection> conn) {
  if (!conn->reusable()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < keepIdle_) idle_.push_back(std::move(conn));
}

}  // namespace portico
