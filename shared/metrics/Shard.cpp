#include "metrics/Shard.h"

#include <cstring>
#include <stdexcept>

namespace portico::metrics {
namespace {

std::uint64_t bitsOf(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

double doubleOf(std::uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace

void Shard::addDouble(std::uint32_t cell, double v) {
  std::atomic<std::uint64_t>& c = at(cell);
  std::uint64_t old = c.load(std::memory_order_relaxed);
  if (writers_ == ShardWriters::One) {
    c.store(bitsOf(doubleOf(old) + v), std::memory_order_relaxed);
    return;
  }
  while (!c.compare_exchange_weak(old, bitsOf(doubleOf(old) + v), std::memory_order_relaxed)) {
  }
}

double Shard::loadDouble(std::uint32_t cell) const {
  return doubleOf(load(cell));
}

void Shard::reserve(std::size_t count) {
  if (count > kMaxCells) throw std::length_error("metrics: too many series");
  const std::size_t chunks = (count + kChunkCells - 1) / kChunkCells;
  while (owned_.size() < chunks) {
    auto chunk = std::make_unique<std::atomic<std::uint64_t>[]>(kChunkCells);
    for (std::size_t i = 0; i < kChunkCells; ++i) chunk[i].store(0, std::memory_order_relaxed);
    chunks_[owned_.size()].store(chunk.get(), std::memory_order_release);
    owned_.push_back(std::move(chunk));
  }
}

}  // namespace portico::metrics
