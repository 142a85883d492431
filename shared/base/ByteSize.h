#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico {

/// Parses a size in bytes: a whole number, optionally followed by B, KiB, MiB or GiB (also
/// nginx's k, m, g in either case, binary multiples as in client_max_body_size). "10MiB" ->
/// 10485760. Throws InvalidInput otherwise, or beyond 1 TiB.
std::uint64_t parseByteSize(std::string_view text);

/// The shortest exact spelling: 10485760 -> "10MiB", 1500 -> "1500B".
std::string formatByteSize(std::uint64_t bytes);

}  // namespace portico
