#include "net/Buffer.h"

#include <cstring>

namespace portico::net {

void Buffer::compact() {
  if (begin_ == 0) return;
  const std::size_t n = end_ - begin_;
  if (n > 0) std::memmove(data_.get(), data_.get() + begin_, n);
  begin_ = 0;
  end_ = n;
}

void Buffer::grow(std::size_t capacity) {
  if (capacity <= capacity_) return;
  std::unique_ptr<char[]> bigger(new char[capacity]);
  std::memcpy(bigger.get(), data_.get(), end_);
  data_ = std::move(bigger);
  capacity_ = capacity;
}

std::unique_ptr<Buffer> BufferPool::take() {
  if (free_.empty()) return std::make_unique<Buffer>(size_);
  auto b = std::move(free_.back());
  free_.pop_back();
  b->reset();
  return b;
}

void BufferPool::give(std::unique_ptr<Buffer> buffer) {
  if (!buffer || buffer->capacity() != size_ || free_.size() >= keep_) return;
  free_.push_back(std::move(buffer));
}

}  // namespace portico::net
