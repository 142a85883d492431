#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/Exposition.h"
#include "metrics/Shard.h"

namespace portico::metrics {

class Registry;

/// A counter series: `add` on the writer's own shard. Cheap to copy; resolve it once (per route,
/// per target) and keep it where the hot path finds it.
class Counter {
 public:
  Counter() = default;
  void add(Shard& shard, std::uint64_t n = 1) const { shard.add(cell_, n); }

 private:
  friend class CounterFamily;
  explicit Counter(std::uint32_t cell) : cell_(cell) {}
  std::uint32_t cell_{0};  // cell 0 is a sink nobody reads: a default Counter counts nowhere
};

/// A gauge series. Either the data plane moves it by deltas on its shard (open connections),
/// or the control plane sets it (a revision); not both.
class Gauge {
 public:
  Gauge() = default;
  void add(Shard& shard, std::int64_t delta) const {
    shard.add(cell_, static_cast<std::uint64_t>(delta));
  }
  void set(double value) const {
    if (base_) base_->store(value, std::memory_order_relaxed);
  }

 private:
  friend class GaugeFamily;
  Gauge(std::uint32_t cell, std::atomic<double>* base) : cell_(cell), base_(base) {}
  std::uint32_t cell_{0};
  std::atomic<double>* base_{nullptr};
};

/// A histogram series: one cell per bucket (not cumulative; summed and accumulated at scrape)
/// and one for the sum.
class Histogram {
 public:
  Histogram() = default;
  void observe(Shard& shard, double value) const;

 private:
  friend class HistogramFamily;
  Histogram(std::uint32_t first, const std::vector<double>* bounds)
      : first_(first), bounds_(bounds) {}
  std::uint32_t first_{0};
  const std::vector<double>* bounds_{nullptr};
};

/// What every family has: a name, help, label names, and its series by label values.
class Family {
 public:
  Family(Registry& registry, std::string name, std::string help,
         std::vector<std::string> labelNames, std::size_t cellsPerSeries);
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  /// Writes HELP, TYPE and every series (caller holds the registry's lock).
  virtual void expose(Exposition& out) const = 0;

 protected:
  struct Series {
    std::uint32_t first{0};
    std::atomic<double> base{0};  // gauges: the value set by the control plane
  };
  /// Finds or creates the series for `values` (one per label name). Takes the registry's lock.
  const Series& series(const std::vector<std::string>& values);
  std::vector<Label> labelsOf(const std::vector<std::string>& values) const;
  std::uint64_t sum(std::uint32_t cell) const;
  double sumDouble(std::uint32_t cell) const;

  Registry& registry_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labelNames_;
  const std::size_t cellsPerSeries_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

class CounterFamily : public Family {
 public:
  using Family::Family;
  Counter with(const std::vector<std::string>& labelValues = {});
  void expose(Exposition& out) const override;
};

class GaugeFamily : public Family {
 public:
  using Family::Family;
  Gauge with(const std::vector<std::string>& labelValues = {});
  void expose(Exposition& out) const override;
};

class HistogramFamily : public Family {
 public:
  HistogramFamily(Registry& registry, std::string name, std::string help,
                  std::vector<std::string> labelNames, std::vector<double> bounds);
  Histogram with(const std::vector<std::string>& labelValues = {});
  void expose(Exposition& out) const override;

 private:
  const std::vector<double> bounds_;
};

/// The metrics of one process: families of series whose cells are spread over shards, one per
/// writer (a loop, or a group of threads), summed when scraped. Creating families and series
/// takes a lock (control plane, or the first time a label combination is seen); counting never
/// does. Collectors add samples computed at scrape time (process metrics, state read from
/// elsewhere).
class Registry {
 public:
  /// `shards` shards, all written the same way.
  Registry(std::size_t shards, ShardWriters writers);
  /// `owned` shards each owned by one thread (an event loop: plain adds), then `shared` shards
  /// for every other thread (atomic adds).
  Registry(std::size_t owned, std::size_t shared);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  std::size_t shardCount() const { return shards_.size(); }
  Shard& shard(std::size_t index) { return *shards_[index % shards_.size()]; }
  /// Makes shard(index) (an owned one) the calling thread's threadShard(): an event loop calls
  /// it once, on its own thread, before it counts.
  void bindThisThread(std::size_t index);
  /// The calling thread's shard: the one it bound, else a shared one (threads take the shared
  /// shards in turn as they first count).
  Shard& threadShard();

  /// Names follow Prometheus conventions: base units, counters ending in _total. Throws
  /// std::invalid_argument for a name registered twice.
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> labelNames = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> labelNames = {});
  /// `bounds`: the buckets' upper bounds, ascending (+Inf is added).
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> labelNames, std::vector<double> bounds);

  using Collector = std::function<void(Exposition&)>;
  /// Called at each scrape after the families, in the order added.
  void addCollector(Collector collector);

  /// The text exposition of every family and collector.
  std::string scrape() const;

  /// Bucket bounds for request and probe durations in seconds, 1 ms to 10 s.
  static std::vector<double> latencyBuckets();

 private:
  friend class Family;
  std::uint32_t allocate(std::size_t cells);  // with mutex_ held
  template <typename F>
  F& add(std::unique_ptr<F> family);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<Family>> families_;
  std::vector<Collector> collectors_;
  std::uint32_t nextCell_{1};   // cell 0 is the sink of default-constructed handles
  std::size_t sharedFirst_{0};  // shards_[sharedFirst_, end) are for threads that bound none
};

}  // namespace portico::metrics
