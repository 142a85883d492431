#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace portico::net {

/// A byte buffer with a read position and a write position: bytes arrive at the end, are
/// consumed from the front, and compact() moves the unconsumed rest to the start.
class Buffer {
 public:
  explicit Buffer(std::size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t capacity() const { return capacity_; }

  std::size_t begin() const { return begin_; }  // first unconsumed byte
  std::size_t end() const { return end_; }      // one past the last byte received
  std::size_t unconsumed() const { return end_ - begin_; }
  std::size_t space() const { return capacity_ - end_; }
  char* writePtr() { return data_.get() + end_; }

  void produced(std::size_t n) { end_ += n; }
  void consumed(std::size_t n) { begin_ += n; }
  void reset() { begin_ = end_ = 0; }
  /// Moves the unconsumed bytes to the start (offsets of what was consumed become invalid).
  void compact();
  /// Grows to `capacity` (no-op when already as large), keeping the bytes and offsets.
  void grow(std::size_t capacity);

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t begin_{0};
  std::size_t end_{0};
};

/// Buffers of one size, kept for reuse by one loop: a connection holds one only while it has
/// bytes in flight, so thousands of idle keep-alive clients cost no buffer memory.
class BufferPool {
 public:
  BufferPool(std::size_t bufferSize, std::size_t keep) : size_(bufferSize), keep_(keep) {}

  std::unique_ptr<Buffer> take();
  void give(std::unique_ptr<Buffer> buffer);
  std::size_t bufferSize() const { return size_; }

 private:
  std::size_t size_;
  std::size_t keep_;
  std::vector<std::unique_ptr<Buffer>> free_;
};

}  // namespace portico::net
