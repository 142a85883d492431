#pragma once

#include <cstdint>
#include <string>

#include "model/Normalize.h"

namespace portico {

/// A TargetUrl held as its canonical text alone, with where its host and base path lie in it:
/// the health schedule keeps one per target for as long as the target exists, and a whole
/// TargetUrl (three more strings) cost 80 bytes a target more than this. Pure.
class PackedTargetUrl {
 public:
  PackedTargetUrl() = default;
  explicit PackedTargetUrl(const TargetUrl& url);

  /// The TargetUrl it was made from.
  TargetUrl unpack() const;
  const std::string& canonical() const { return canonical_; }

 private:
  std::string canonical_;    // "http(s)://host[:port][/base]"
  std::uint16_t port_{0};    // URLs are at most 2 KiB: offsets fit 16 bits
  std::uint16_t hostAt_{0};  // the host without IPv6 brackets
  std::uint16_t hostLength_{0};
  std::uint16_t basePathLength_{0};  // the base path ends the canonical form
  bool tls_{false};
};

}  // namespace portico
