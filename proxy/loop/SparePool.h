#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace portico {

/// Objects a connection keeps for its next streams (request heads, trailer lists), so a new
/// stream reuses the storage an ended one grew instead of allocating it again. The caller
/// clears an object before giving it back; at most `keep` are kept, the rest are destroyed.
template <class T>
class SparePool {
 public:
  explicit SparePool(std::size_t keep) : keep_(keep) {}

  /// A kept object, or null when there is none (the caller makes one).
  std::unique_ptr<T> take() {
    if (spares_.empty()) return nullptr;
    std::unique_ptr<T> object = std::move(spares_.back());
    spares_.pop_back();
    return object;
  }
  void give(std::unique_ptr<T> object) {
    if (object && spares_.size() < keep_) spares_.push_back(std::move(object));
  }
  std::size_t size() const { return spares_.size(); }

 private:
  std::size_t keep_;
  std::vector<std::unique_ptr<T>> spares_;
};

}  // namespace portico
