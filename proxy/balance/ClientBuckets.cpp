#include "balance/ClientBuckets.h"

#include <algorithm>
#include <functional>

namespace portico {

ClientBuckets::ClientBuckets(std::size_t capacity)
    : perStripe_(std::max<std::size_t>(1, capacity / kStripes)) {}

TokenBucket::Verdict ClientBuckets::take(std::string_view client, std::int64_t nowUs,
                                         std::int64_t rate, std::int64_t capacity) {
  Stripe& stripe = stripes_.get(kStripes)[std::hash<std::string_view>()(client) % kStripes];
  std::lock_guard<std::mutex> lock(stripe.mutex);
  auto it = stripe.index.find(client);
  if (it != stripe.index.end()) {
    stripe.recent.splice(stripe.recent.begin(), stripe.recent, it->second);
  } else {
    if (stripe.index.size() >= perStripe_) {
      stripe.index.erase(stripe.recent.back().key);
      stripe.recent.pop_back();
    }
    stripe.recent.emplace_front(std::string(client));
    // The key is the list entry's own string: the view stays valid while the entry lives.
    it = stripe.index.emplace(stripe.recent.front().key, stripe.recent.begin()).first;
  }
  return it->second->bucket.take(nowUs, rate, capacity);
}

std::size_t ClientBuckets::size() const {
  const Stripe* stripes = stripes_.peek();
  if (!stripes) return 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < kStripes; ++i) {
    std::lock_guard<std::mutex> lock(stripes[i].mutex);
    n += stripes[i].index.size();
  }
  return n;
}

}  // namespace portico
