#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace portico {

/// The routes of one host group (one exact host, one wildcard, or every any-host route) by
/// prefix, answering "which of them has the longest prefix matching this path". Routes are
/// positions in the table's route list; keys are views into text the HostRouter owns.
///
/// An open-addressing table in one array (linear probing, at most half full): a table of
/// 25,000 routes is one allocation rather than 25,000 hash nodes, so building an index (at each
/// route added) neither calls malloc per route nor leaves the heap fragmented by them.
class PrefixMap {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// Room for `n` keys without growing.
  void reserve(std::size_t n);
  /// Adds the route at `position` under its normalised `prefix` (a view that outlives the map);
  /// the first route of a prefix stays.
  void add(std::string_view prefix, std::uint32_t position);
  bool empty() const { return size_ == 0; }
  /// The position of the route of exactly this normalised prefix, or npos.
  std::size_t find(std::string_view prefix) const;
  /// The position of the route whose prefix is the longest matching `path` (no query), or
  /// npos: a path matches a route when it equals the route's key or continues it with '/'.
  std::size_t longest(std::string_view path) const;

 private:
  struct Slot {
    const char* key{nullptr};  // null: empty
    std::uint32_t length{0};
    std::uint32_t position{0};
  };
  /// The slot holding `key`, or the empty one where it would go.
  std::size_t probe(std::string_view key) const;
  std::size_t lookup(std::string_view key) const;  // a position, or npos
  void rehash(std::size_t capacity);

  std::vector<Slot> slots_;  // a power of two in size, or empty
  std::size_t size_{0};
};

}  // namespace portico
