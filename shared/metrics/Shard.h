#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace portico::metrics {

/// Who writes to a shard. `One`: a single thread (an event loop) owns it, and an increment is a
/// plain load and store, no read-modify-write. `Many`: several threads may share it (thread per
/// connection), and an increment is a relaxed atomic add on a cache line few threads touch.
enum class ShardWriters { One, Many };

/// One writer's share of every metric cell. A metric series is a cell index valid in every shard;
/// its value is the sum over the shards, read at scrape time. Cells live in fixed chunks that
/// never move, so a writer holding an index never waits for (or races with) the registry creating
/// new series: writers take no lock and allocate nothing.
class Shard {
 public:
  static constexpr std::size_t kChunkBits = 9;  // 512 cells, 4 KiB per chunk
  static constexpr std::size_t kChunkCells = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kMaxChunks = 2048;  // a million cells per shard
  static constexpr std::size_t kMaxCells = kChunkCells * kMaxChunks;

  explicit Shard(ShardWriters writers) : writers_(writers) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  /// Adds to a counter or (as two's complement) to a gauge's delta.
  void add(std::uint32_t cell, std::uint64_t n) {
    std::atomic<std::uint64_t>& c = at(cell);
    if (writers_ == ShardWriters::One) {
      c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      c.fetch_add(n, std::memory_order_relaxed);
    }
  }

  /// Adds to a cell that holds the bits of a double (a histogram's sum).
  void addDouble(std::uint32_t cell, double v);

  std::uint64_t load(std::uint32_t cell) const { return at(cell).load(std::memory_order_relaxed); }
  double loadDouble(std::uint32_t cell) const;

  /// Makes room for cells [0, count): control plane, called by the registry under its lock
  /// before any writer learns of the new cells.
  void reserve(std::size_t count);

 private:
  std::atomic<std::uint64_t>& at(std::uint32_t cell) const {
    return chunks_[cell >> kChunkBits].load(std::memory_order_acquire)[cell & (kChunkCells - 1)];
  }

  const ShardWriters writers_;
  std::array<std::atomic<std::atomic<std::uint64_t>*>, kMaxChunks> chunks_{};
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>[]>> owned_;
};

}  // namespace portico::metrics
