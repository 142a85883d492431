#include "metrics/Registry.h"

#include <algorithm>
#include <stdexcept>

namespace portico::metrics {

void Histogram::observe(Shard& shard, double value) const {
  if (!bounds_) return;
  // Few buckets: a linear scan beats a binary search's branches.
  std::size_t i = 0;
  const std::size_t n = bounds_->size();
  while (i < n && value > (*bounds_)[i]) ++i;
  shard.add(first_ + static_cast<std::uint32_t>(i), 1);
  shard.addDouble(first_ + static_cast<std::uint32_t>(n + 1), value);
}

Family::Family(Registry& registry, std::string name, std::string help,
               std::vector<std::string> labelNames, std::size_t cellsPerSeries)
    : registry_(registry),
      name_(std::move(name)),
      help_(std::move(help)),
      labelNames_(std::move(labelNames)),
      cellsPerSeries_(cellsPerSeries) {}

const Family::Series& Family::series(const std::vector<std::string>& values) {
  if (values.size() != labelNames_.size())
    throw std::invalid_argument(name_ + ": expected " + std::to_string(labelNames_.size()) +
                                " label values, got " + std::to_string(values.size()));
  std::lock_guard<std::mutex> lock(registry_.mutex_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    auto s = std::make_unique<Series>();
    s->first = registry_.allocate(cellsPerSeries_);
    it = series_.emplace(values, std::move(s)).first;
  }
  return *it->second;
}

std::vector<Label> Family::labelsOf(const std::vector<std::string>& values) const {
  std::vector<Label> labels;
  labels.reserve(values.size() + 1);
  for (std::size_t i = 0; i < values.size(); ++i) labels.emplace_back(labelNames_[i], values[i]);
  return labels;
}

std::uint64_t Family::sum(std::uint32_t cell) const {
  std::uint64_t total = 0;
  for (const auto& shard : registry_.shards_) total += shard->load(cell);
  return total;
}

double Family::sumDouble(std::uint32_t cell) const {
  double total = 0;
  for (const auto& shard : registry_.shards_) total += shard->loadDouble(cell);
  return total;
}

Counter CounterFamily::with(const std::vector<std::string>& labelValues) {
  return Counter(series(labelValues).first);
}

void CounterFamily::expose(Exposition& out) const {
  out.family(name_, help_, "counter");
  for (const auto& [values, s] : series_) out.sample(name_, labelsOf(values), sum(s->first));
}

Gauge GaugeFamily::with(const std::vector<std::string>& labelValues) {
  // The series outlives every handle: series are never removed from a family.
  auto& s = const_cast<Series&>(series(labelValues));
  return Gauge(s.first, &s.base);
}

void GaugeFamily::expose(Exposition& out) const {
  out.family(name_, help_, "gauge");
  for (const auto& [values, s] : series_) {
    const auto delta = static_cast<std::int64_t>(sum(s->first));
    out.sample(name_, labelsOf(values),
               s->base.load(std::memory_order_relaxed) + static_cast<double>(delta));
  }
}

HistogramFamily::HistogramFamily(Registry& registry, std::string name, std::string help,
                                 std::vector<std::string> labelNames, std::vector<double> bounds)
    : Family(registry, std::move(name), std::move(help), std::move(labelNames), bounds.size() + 2),
      bounds_(std::move(bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
    throw std::invalid_argument(name_ + ": bucket bounds must ascend");
}

Histogram HistogramFamily::with(const std::vector<std::string>& labelValues) {
  return Histogram(series(labelValues).first, &bounds_);
}

void HistogramFamily::expose(Exposition& out) const {
  out.family(name_, help_, "histogram");
  const std::string bucket = name_ + "_bucket";
  for (const auto& [values, s] : series_) {
    auto labels = labelsOf(values);
    labels.emplace_back("le", "");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += sum(s->first + static_cast<std::uint32_t>(i));
      const std::string le =
          i < bounds_.size() ? Exposition::formatValue(bounds_[i]) : std::string("+Inf");
      labels.back().second = le;
      out.sample(bucket, labels, cumulative);
    }
    labels.pop_back();
    out.sample(name_ + "_sum", labels,
               sumDouble(s->first + static_cast<std::uint32_t>(bounds_.size() + 1)));
    out.sample(name_ + "_count", labels, cumulative);
  }
}

namespace {

/// The shard a thread bound, and in which registry (a thread may count into several).
struct Binding {
  const Registry* registry{nullptr};
  Shard* shard{nullptr};
};
thread_local Binding tBinding;

}  // namespace

Registry::Registry(std::size_t shards, ShardWriters writers) {
  shards = std::max<std::size_t>(1, shards);
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(writers));
    shards_.back()->reserve(1);
  }
}

Registry::Registry(std::size_t owned, std::size_t shared) : sharedFirst_(owned) {
  shared = std::max<std::size_t>(1, shared);
  for (std::size_t i = 0; i < owned + shared; ++i) {
    shards_.push_back(std::make_unique<Shard>(i < owned ? ShardWriters::One : ShardWriters::Many));
    shards_.back()->reserve(1);
  }
}

void Registry::bindThisThread(std::size_t index) {
  tBinding = Binding{this, &shard(index)};
}

Shard& Registry::threadShard() {
  if (tBinding.registry == this) return *tBinding.shard;
  // Thread ordinals are global: a thread counting into two registries keeps one ordinal.
  static std::atomic<std::size_t> ordinals{0};
  thread_local const std::size_t ordinal = ordinals.fetch_add(1, std::memory_order_relaxed);
  return *shards_[sharedFirst_ + ordinal % (shards_.size() - sharedFirst_)];
}

std::uint32_t Registry::allocate(std::size_t cells) {
  const std::size_t first = nextCell_;
  for (auto& shard : shards_) shard->reserve(first + cells);
  nextCell_ = static_cast<std::uint32_t>(first + cells);
  return static_cast<std::uint32_t>(first);
}

template <typename F>
F& Registry::add(std::unique_ptr<F> family) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& f : families_)
    if (f->name() == family->name())
      throw std::invalid_argument("metric " + family->name() + " registered twice");
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> labelNames) {
  return add(std::make_unique<CounterFamily>(*this, name, help, std::move(labelNames), 1));
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> labelNames) {
  return add(std::make_unique<GaugeFamily>(*this, name, help, std::move(labelNames), 1));
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> labelNames,
                                     std::vector<double> bounds) {
  return add(std::make_unique<HistogramFamily>(*this, name, help, std::move(labelNames),
                                               std::move(bounds)));
}

void Registry::addCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::scrape() const {
  Exposition out;
  std::vector<Collector> collectors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& f : families_) f->expose(out);
    collectors = collectors_;
  }
  // Outside the lock: a collector may read state that creates series elsewhere.
  for (const auto& c : collectors) c(out);
  return out.take();
}

std::vector<double> Registry::latencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace portico::metrics
