#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "balance/LazyArray.h"
#include "balance/TokenBucket.h"

namespace portico {

/// The token buckets of a route limited per client address, bounded: at most `capacity`
/// clients are remembered, the least recently seen forgotten first (a forgotten client comes
/// back with a full bucket), so a flood of addresses cannot grow memory without end.
///
/// Striped: kStripes independent tables, each behind its own mutex, chosen by the address's
/// hash, so loops contend only when two of them meet the same stripe at the same instant (the
/// one lock of the request path, held for a hash lookup and a list splice).
///
/// The stripes are made at the first take: every route carries one of these, and only the few
/// limited per client use it (16 stripes of a mutex, a list and a hash table are ~2 KB, which at
/// 25,000 routes was most of the route table; issue 22 allows 1 KB per target).
class ClientBuckets {
 public:
  static constexpr std::size_t kStripes = 16;
  static constexpr std::size_t kDefaultCapacity = 65536;

  explicit ClientBuckets(std::size_t capacity = kDefaultCapacity);
  ClientBuckets(const ClientBuckets&) = delete;
  ClientBuckets& operator=(const ClientBuckets&) = delete;

  /// Takes a token from `client`'s bucket (see TokenBucket::take).
  TokenBucket::Verdict take(std::string_view client, std::int64_t nowUs, std::int64_t rate,
                            std::int64_t capacity);
  /// How many clients are remembered.
  std::size_t size() const;

 private:
  struct Entry {
    explicit Entry(std::string k) : key(std::move(k)) {}
    std::string key;
    TokenBucket bucket;
  };
  struct Stripe {
    mutable std::mutex mutex;
    std::list<Entry> recent;  // most recently seen first
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index;  // keys in `recent`
  };

  std::size_t perStripe_;
  LazyArray<Stripe> stripes_;  // kStripes, made by the first take
};

}  // namespace portico
